package remote

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/strata-sh/strata/internal/testregistry"
	"github.com/strata-sh/strata/refs"
)

// A push takes the remote-tracking refs that remote.NAME.fetch maps the
// remote's tags to (here refs/remotes/up/*, not origin/*) as commits the
// registry has: a push of one new commit on a pushed branch asks the
// registry about none of its history. Push moves up/main itself.
func TestPushWalkTrustsMappedTrackingRefs(t *testing.T) {
	ctx := context.Background()
	reg := testregistry.Start(t)
	url := reg.Repo("mapped")
	a := newRepo(t)
	if err := Add(a.Config, Remote{Name: "origin", URL: url}); err != nil {
		t.Fatal(err)
	}
	if err := a.Config.Unset("remote.origin.fetch", true); err != nil {
		t.Fatal(err)
	}
	if err := a.Config.Add("remote.origin.fetch", "+refs/heads/*:refs/remotes/up/*"); err != nil {
		t.Fatal(err)
	}
	metaCommits(t, a, "main", 20, true)
	if _, err := connect(t, a, "origin", url, Options{}).Push(ctx, a, refs.Heads+"main", PushOptions{}); err != nil {
		t.Fatal(err)
	}
	if !a.Refs.Exists(refs.Remotes+"up/main") || a.Refs.Exists(refs.Remotes+"origin/main") {
		t.Fatal("push did not move up/main alone")
	}
	tip := metaCommits(t, a, "main", 1, true)
	var mu sync.Mutex
	heads := 0
	rt := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if req.Method == http.MethodHead && strings.Contains(req.URL.Path, "/manifests/sha256:") {
			mu.Lock()
			heads++
			mu.Unlock()
		}
		return http.DefaultTransport.RoundTrip(req)
	})
	if err := a.Refs.Update(refs.Heads+"other", tip, "", "test"); err != nil {
		t.Fatal(err)
	}
	res, err := connect(t, a, "origin", url, Options{Transport: rt}).Push(ctx, a, refs.Heads+"other", PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Commits != 1 || heads != 0 {
		t.Errorf("push of 1 commit on a history up/main names: %d sent, %d manifest HEADs; want 1 and 0", res.Commits, heads)
	}
	if got := mustRead(t, a, refs.Remotes+"up/other"); got != tip {
		t.Errorf("up/other = %s, want %s", got, tip)
	}
}
