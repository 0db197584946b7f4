package remote

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrremote "github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/testregistry"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// holdOne fails the PUT of one manifest, but only once every other the
// window lets through (want of them: those older, and the
// manifestPushJobs-1 after it) is in: the registry is left with
// manifests whose parent it lacks, the worst an interrupted push can
// leave.
type holdOne struct {
	target string
	want   int
	mu     sync.Mutex
	others int
	wake   chan struct{}
}

func (h *holdOne) RoundTrip(req *http.Request) (*http.Response, error) {
	put := req.Method == http.MethodPut && strings.Contains(req.URL.Path, "/manifests/sha256:")
	if put && strings.HasSuffix(req.URL.Path, h.target) {
		<-h.wake
		return nil, errors.New("connection reset (injected)")
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if put && err == nil && resp.StatusCode == http.StatusCreated {
		h.mu.Lock()
		if h.others++; h.others == h.want {
			close(h.wake)
		}
		h.mu.Unlock()
	}
	return resp, err
}

// Manifests go in parallel, so an interrupted push can leave a manifest
// whose ancestors are not all there; the next push finds the gap (within
// holeDepth of what it finds by HEAD) and fills it, and a clone gets
// the whole history.
func TestInterruptedParallelPushLeavesNoGap(t *testing.T) {
	ctx := context.Background()
	reg := testregistry.Start(t)
	url := reg.Repo("gap")
	a := newRepo(t)
	const n = 40
	tip := metaCommits(t, a, "main", n, true)
	h := history(t, a, tip) // tip first
	// The 6th oldest fails; the 7 after it in the window get in.
	target := h[n-6]
	ft := &holdOne{target: target.String(), want: 5 + manifestPushJobs - 1, wake: make(chan struct{})}
	s := connect(t, a, "origin", url, Options{Transport: ft})
	s.noAncestors = true // a clone must walk the parent chain itself
	if _, err := s.Push(ctx, a, refs.Heads+"main", PushOptions{}); err == nil {
		t.Fatal("push through a failing connection succeeded")
	}
	check := connect(t, a, "check", url, Options{})
	have := func(d digest.Digest) bool { return check.hasManifest(ctx, d) }
	if have(target) || !have(h[n-7]) || !have(h[n-13]) || have(h[n-14]) {
		t.Fatalf("after the failed push: target %v, the 7 after it %v/%v, the next %v; want a gap below manifests the registry has",
			have(target), have(h[n-7]), have(h[n-13]), have(h[n-14]))
	}
	if _, err := check.t.headManifest(ctx, "main"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("tag after a failed push: %v", err)
	}
	// A new session that knows nothing of the first (no tracking ref).
	s2, err := Connect(Remote{URL: url}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s2.noAncestors = true
	res, err := s2.Push(ctx, a, refs.Heads+"main", PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The 28 missing, and perhaps some of the 7 above the gap again.
	if res.Commits < n-12 || res.Commits > n-5 {
		t.Fatalf("rerun sent %d commits; %d were missing", res.Commits, n-12)
	}
	b, _, err := Clone(ctx, url+":main", filepath.Join(t.TempDir(), "b"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	sameHistory(t, a, b, tip, n)
	checkFsck(t, b)
}

// The walk of a push finds where a long new line meets what the remote
// has with a few rounds of HEADs, not one a commit.
func TestPushWalkProbesFew(t *testing.T) {
	ctx := context.Background()
	reg := testregistry.Start(t)
	url := reg.Repo("probe")
	a := newRepo(t)
	metaCommits(t, a, "main", 300, true)
	s := connect(t, a, "origin", url, Options{})
	if _, err := s.Push(ctx, a, refs.Heads+"main", PushOptions{}); err != nil {
		t.Fatal(err)
	}
	tip := metaCommits(t, a, "main", 500, true)
	var heads atomic.Int64
	rt := countManifestHeads(&heads)
	// No tracking ref, another tag: the walk must ask the registry.
	s2, err := Connect(Remote{URL: url}, Options{Transport: rt})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Refs.Update(refs.Heads+"other", tip, "", "test"); err != nil {
		t.Fatal(err)
	}
	res, err := s2.Push(ctx, a, refs.Heads+"other", PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Commits != 500 || heads.Load() > 4*probeWidth+holeDepth {
		t.Fatalf("push of 500 new commits on 300 pushed: %d sent, %d manifest HEADs", res.Commits, heads.Load())
	}
	b, _, err := Clone(ctx, url+":other", filepath.Join(t.TempDir(), "b"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	sameHistory(t, a, b, tip, 800)
}

// A push sends the config of a commit the remote lacks without a HEAD
// first (it names its parent's diff ids, date and message: it is new
// too, but for chance), and still asks before each layer, which a shared
// base often makes present. A config the registry does have is sent
// again, and the push goes through.
func TestPushAsksForLayersNotConfigs(t *testing.T) {
	ctx := context.Background()
	reg := testregistry.Start(t)
	url := reg.Repo("heads")
	a := newRepo(t)
	commitFile(t, a, "main", "a", "1")
	s := connect(t, a, "origin", url, Options{})
	if _, err := s.Push(ctx, a, refs.Heads+"main", PushOptions{}); err != nil {
		t.Fatal(err)
	}
	mid := commitFile(t, a, "main", "b", "2")
	tip := commitFile(t, a, "main", "c", "3")
	// The registry already has mid's config, as an interrupted push
	// leaves it: blobs in, manifest not.
	uploadConfig(t, a, mid, url)

	var mu sync.Mutex
	heads := map[digest.Digest]int{}
	rt := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if req.Method == http.MethodHead && strings.Contains(req.URL.Path, "/blobs/sha256:") {
			mu.Lock()
			heads[digest.Digest(req.URL.Path[strings.LastIndexByte(req.URL.Path, '/')+1:])]++
			mu.Unlock()
		}
		return http.DefaultTransport.RoundTrip(req)
	})
	s2 := connect(t, a, "origin", url, Options{Transport: rt})
	res, err := s2.Push(ctx, a, refs.Heads+"main", PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []digest.Digest{mid, tip} {
		c, err := a.Objects.ReadCommit(d)
		if err != nil {
			t.Fatal(err)
		}
		if n := heads[c.Manifest.Config.Digest]; n != 0 {
			t.Errorf("config of %s: %d HEADs, want none", short(d), n)
		}
		for _, l := range c.Layers()[len(c.Layers())-1:] {
			if n := heads[l.Desc.Digest]; n != 1 {
				t.Errorf("new layer of %s: %d HEADs, want 1", short(d), n)
			}
		}
	}
	if res.Commits != 2 || res.Sent != 4 {
		t.Errorf("push: %d commits, %d blobs sent; want 2 and 4", res.Commits, res.Sent)
	}
	b, _, err := Clone(ctx, url+":main", filepath.Join(t.TempDir(), "b"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	sameHistory(t, a, b, tip, 3)
	checkFsck(t, b)
}

// A registry that refuses a blob it already has (the OCI spec lets a
// client send one again; not every registry takes it) still gets the
// push: a config sent without a HEAD and refused is found there.
func TestPushToRegistryRefusingKnownBlobs(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	have := map[string]bool{}
	refused := 0
	url := inProcessRegistry(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if req.Method != http.MethodPut || !strings.Contains(req.URL.Path, "/blobs/uploads/") {
				h.ServeHTTP(w, req)
				return
			}
			d := req.URL.Query().Get("digest")
			mu.Lock()
			known := have[d]
			if known {
				refused++
			}
			mu.Unlock()
			if known {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				w.Write([]byte(`{"errors":[{"code":"BLOB_UPLOAD_INVALID","message":"blob exists"}]}`))
				return
			}
			rec := &statusRecorder{ResponseWriter: w}
			h.ServeHTTP(rec, req)
			if rec.code == http.StatusCreated {
				mu.Lock()
				have[d] = true
				mu.Unlock()
			}
		})
	}) + "/env"
	r := newRepo(t)
	tip := commitFile(t, r, "main", "a", "1")
	uploadConfig(t, r, tip, url)
	res, err := connect(t, r, "origin", url, Options{}).Push(ctx, r, refs.Heads+"main", PushOptions{})
	if err != nil {
		t.Fatalf("push to a registry that refuses known blobs: %v", err)
	}
	if refused != 1 || res.Sent != 1 || res.Skipped != 1 {
		t.Errorf("push: %d refused, %d sent, %d skipped; want 1, 1, 1", refused, res.Sent, res.Skipped)
	}
	b, _, err := Clone(ctx, url, filepath.Join(t.TempDir(), "b"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, b, refs.Heads+"main"); got != tip {
		t.Fatalf("clone: %s, want %s", got, tip)
	}
}

// uploadConfig puts commit d's config blob into the repository at url
// (with go-containerregistry, not strata), as an interrupted push leaves
// it: the blob there, the manifest not.
func uploadConfig(t *testing.T, r *repo.Repo, d digest.Digest, url string) {
	t.Helper()
	raw, err := r.Objects.ReadBlob(configOf(t, r, d))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.NewRepository(url, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := ggcrremote.WriteLayer(ref, static.NewLayer(raw, types.MediaType("application/octet-stream"))); err != nil {
		t.Fatal(err)
	}
}

// countManifestHeads is a transport that counts the HEADs of manifests
// by digest it carries.
func countManifestHeads(n *atomic.Int64) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if req.Method == http.MethodHead && strings.Contains(req.URL.Path, "/manifests/sha256:") {
			n.Add(1)
		}
		return http.DefaultTransport.RoundTrip(req)
	})
}
