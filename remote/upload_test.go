package remote

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/strata-sh/strata/internal/testregistry"
	"github.com/strata-sh/strata/refs"
)

// A push authenticates once (pull and push share one connection) and
// sends each blob as one PUT that carries the body, with no PATCH; the
// registry still checks each digest, and a clone gets the history back.
func TestPushAuthenticatesOnceAndUploadsMonolithically(t *testing.T) {
	ctx := context.Background()
	reg := testregistry.Start(t)
	url := reg.Repo("mono")
	a, tip := threeCommits(t)
	var mu sync.Mutex
	count := map[string]int{}
	rt := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			return resp, err
		}
		mu.Lock()
		defer mu.Unlock()
		switch {
		case req.URL.Path == "/v2/":
			count["ping"]++
		case strings.Contains(req.URL.Path, "/blobs/uploads/"):
			count[req.Method]++
			if req.Method == http.MethodPut && req.ContentLength <= 0 {
				count["empty PUT"]++
			}
		}
		return resp, err
	})
	s := connect(t, a, "origin", url, Options{Transport: rt})
	s.noAncestors = true // counts the blobs of the commits
	res, err := s.Push(ctx, a, refs.Heads+"main", PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Three commits: three layers and three configs.
	if count["ping"] != 1 || count[http.MethodPatch] != 0 || count[http.MethodPost] != 6 || count[http.MethodPut] != 6 || count["empty PUT"] != 0 || res.Sent != 6 {
		t.Fatalf("push: requests %v, result %+v; want 1 ping, 6 POSTs, 6 PUTs with bodies, no PATCH", count, res)
	}
	b, _, err := Clone(ctx, url+":main", filepath.Join(t.TempDir(), "b"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, b, refs.Heads+"main"); got != tip {
		t.Fatalf("clone: main = %s, want %s", got, tip)
	}
	checkFsck(t, b)
}

// An upload location on an inward address of another host is refused:
// the body would go to a service the registry chose.
func TestUploadLocationInwardRefused(t *testing.T) {
	ctx := context.Background()
	url := inProcessRegistry(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			rec := &locationRewriter{ResponseWriter: w}
			h.ServeHTTP(rec, req)
		})
	}) + "/env"
	a, _ := threeCommits(t)
	_, err := connect(t, a, "origin", url, Options{}).Push(ctx, a, refs.Heads+"main", PushOptions{})
	if err == nil || !strings.Contains(err.Error(), "inward address") {
		t.Fatalf("push to an inward upload location: %v", err)
	}
}

// locationRewriter points upload locations at 127.0.0.2, another host
// on the loopback network.
type locationRewriter struct{ http.ResponseWriter }

func (l *locationRewriter) WriteHeader(code int) {
	if loc := l.Header().Get("Location"); strings.Contains(loc, "/blobs/uploads/") {
		l.Header().Set("Location", "http://127.0.0.2:9"+loc[strings.Index(loc, "/v2/"):])
	}
	l.ResponseWriter.WriteHeader(code)
}

// A registry that refuses to start an upload is quoted: the POST's body
// was closed before its error was read, so a 429 (or 403, 500) read
// "http: read on closed response body".
func TestUploadRefusalQuoted(t *testing.T) {
	url := inProcessRegistry(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if req.Method == http.MethodPost {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusTooManyRequests)
				w.Write([]byte(`{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}`))
				return
			}
			h.ServeHTTP(w, req)
		})
	}) + "/env"
	a, _ := threeCommits(t)
	_, err := connect(t, a, "origin", url, Options{}).Push(context.Background(), a, refs.Heads+"main", PushOptions{})
	if want := "registry answered 429 Too Many Requests: TOOMANYREQUESTS: slow down"; err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Fatalf("push: %v\nwant it to end in %q", err, want)
	}
}

// A blob refused while others are in flight is the error: the others,
// stopped by it, reported it as their own ("send blob A: send blob B:
// access denied"), and the manifest waiting on one of them said that.
// The registry holds the first blob's PUT until the request is
// cancelled, and refuses the second.
func TestRefusedBlobNamedOnce(t *testing.T) {
	var mu sync.Mutex
	puts := 0
	url := inProcessRegistry(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if req.Method != http.MethodPut || !strings.Contains(req.URL.Path, "/blobs/uploads/") {
				h.ServeHTTP(w, req)
				return
			}
			mu.Lock()
			puts++
			n := puts
			mu.Unlock()
			switch n {
			case 1:
				io.Copy(io.Discard, req.Body) // then a closed connection cancels the context
				<-req.Context().Done()
			case 2:
				http.Error(w, `{"errors":[{"code":"DENIED","message":"quota"}]}`, http.StatusForbidden)
			default:
				h.ServeHTTP(w, req)
			}
		})
	}) + "/env"
	a, _ := threeCommits(t)
	_, err := connect(t, a, "origin", url, Options{}).Push(context.Background(), a, refs.Heads+"main", PushOptions{})
	if err == nil || strings.Count(err.Error(), "send blob") != 1 || !strings.Contains(err.Error(), "access denied (403)") {
		t.Fatalf("push: %v, want one blob named, and why", err)
	}
}
