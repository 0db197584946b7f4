package remote

import (
	"context"
	"net/http"
	"path/filepath"
	"sync"
	"testing"

	"github.com/strata-sh/strata/internal/testregistry"
	"github.com/strata-sh/strata/refs"
)

// With several other remotes in the registry, a push mounts each blob
// from the one whose remote-tracking refs hold it, not from the first
// configured: docker-registry, asked to mount from a repository without
// the blob, takes it as an ordinary upload and receives it all again.
func TestMountFromTheRemoteThatHoldsTheBlob(t *testing.T) {
	ctx := context.Background()
	reg := testregistry.Start(t)
	a, tip := threeCommits(t)
	// "first" is configured first and holds none of it.
	connect(t, a, "first", reg.Repo("first/env"), Options{})
	if _, err := connect(t, a, "origin", reg.Repo("one/env"), Options{}).Push(ctx, a, refs.Heads+"main", PushOptions{}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	from := map[string]int{}
	rt := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if req.Method == http.MethodPost {
			mu.Lock()
			from[req.URL.Query().Get("from")]++
			mu.Unlock()
		}
		return http.DefaultTransport.RoundTrip(req)
	})
	s := connect(t, a, "fork", reg.Repo("two/env"), Options{Transport: rt})
	s.MountFrom(List(a.Config))
	res, err := s.Push(ctx, a, refs.Heads+"main", PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Three layers and three configs, each mounted from one/env.
	if res.Sent != 0 || res.Skipped != 6 || from["one/env"] != 6 || len(from) != 1 {
		t.Fatalf("push to a second repository: %+v; upload POSTs by mount source %v, want all 6 mounted from one/env", res, from)
	}
	b, _, err := Clone(ctx, reg.Repo("two/env")+":main", filepath.Join(t.TempDir(), "b"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, b, refs.Heads+"main"); got != tip {
		t.Fatalf("clone of the fork: main = %s, want %s", got, tip)
	}
	checkFsck(t, b)
}
