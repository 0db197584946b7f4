package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/testregistry"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// faultTransport counts blob transfers and fails those after a budget.
type faultTransport struct {
	mu        sync.Mutex
	uploads   int    // blob uploads completed (PUT .../blobs/uploads/...)
	downloads int    // blob GETs answered
	failAfter int    // fail the blob transfer after this many; <0 never
	run       string // if set, sent as testRunHeader with every request
}

// testRunHeader names, for a test's registry, which run sent a request.
const testRunHeader = "X-Strata-Test-Run"

var blobGet = regexp.MustCompile(`/v2/.+/blobs/sha256:[0-9a-f]{64}$`)

func (f *faultTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if f.run != "" {
		req = req.Clone(req.Context())
		req.Header.Set(testRunHeader, f.run)
	}
	upload := req.Method == http.MethodPut && strings.Contains(req.URL.Path, "/blobs/uploads/")
	download := req.Method == http.MethodGet && blobGet.MatchString(req.URL.Path)
	if upload || download {
		f.mu.Lock()
		n := f.uploads + f.downloads
		if f.failAfter >= 0 && n >= f.failAfter {
			f.mu.Unlock()
			return nil, errors.New("connection reset (injected)")
		}
		f.mu.Unlock()
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil && (upload && resp.StatusCode == http.StatusCreated || download && resp.StatusCode == http.StatusOK) {
		f.mu.Lock()
		if upload {
			f.uploads++
		} else {
			f.downloads++
		}
		f.mu.Unlock()
	}
	return resp, err
}

func inProcessRegistry(t *testing.T, wrap func(http.Handler) http.Handler) string {
	var h http.Handler = registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func threeCommits(t *testing.T) (*repo.Repo, digest.Digest) {
	r := newRepo(t)
	var tip digest.Digest
	for i := 0; i < 3; i++ {
		tip = commitFile(t, r, "main", fmt.Sprintf("f%d", i), strings.Repeat("x", 1000*(i+1)))
	}
	return r, tip
}

// An interrupted push leaves no tag; the rerun sends only what is
// missing, but for configs: a config of a commit the registry lacks goes
// without a HEAD, so one the first run got in goes again.
func TestInterruptedPushResumes(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	// The blobs the registry took, by run (faultTransport.run), whatever
	// the client saw: an upload the first run gave up on may still reach
	// the registry, and complete, while the second runs.
	stored := map[string][]digest.Digest{}
	url := inProcessRegistry(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			rec := &statusRecorder{ResponseWriter: w}
			h.ServeHTTP(rec, req)
			if req.Method == http.MethodPut && strings.Contains(req.URL.Path, "/blobs/uploads/") && rec.code == http.StatusCreated {
				mu.Lock()
				run := req.Header.Get(testRunHeader)
				stored[run] = append(stored[run], digest.Digest(req.URL.Query().Get("digest")))
				mu.Unlock()
			}
		})
	}) + "/env"
	r, tip := threeCommits(t)
	ft := &faultTransport{failAfter: 3, run: "first"}
	_, err := connect(t, r, "origin", url, Options{Transport: ft, Jobs: 2}).Push(ctx, r, refs.Heads+"main", PushOptions{})
	if err == nil {
		t.Fatal("push through a failing connection succeeded")
	}
	if r.Refs.Exists("refs/remotes/origin/main") {
		t.Fatal("remote-tracking ref moved by a failed push")
	}
	check, _ := Connect(Remote{URL: url}, Options{})
	if _, err := check.t.headManifest(ctx, "main"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("remote tag exists after a failed push: %v", err)
	}
	mu.Lock()
	had := map[digest.Digest]bool{} // what the first run had stored when the rerun began
	for _, d := range stored["first"] {
		had[d] = true
	}
	mu.Unlock()
	if len(had) == 0 || len(had) >= 6 {
		t.Fatalf("the first run stored %d of 6 blobs; the test wants it cut midway", len(had))
	}
	ft2 := &faultTransport{failAfter: -1, run: "rerun"}
	s := connect(t, r, "origin", url, Options{Transport: ft2})
	s.noAncestors = true // counts blobs of commits; lists: ancestors_test.go
	res, err := s.Push(ctx, r, refs.Heads+"main", PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	all := map[digest.Digest]bool{}
	configs := map[digest.Digest]bool{}
	for _, c := range history(t, r, tip) {
		configs[configOf(t, r, c)] = true
		cm, err := r.Objects.ReadCommit(c)
		if err != nil {
			t.Fatal(err)
		}
		all[cm.Manifest.Config.Digest] = true
		for _, l := range cm.Manifest.Layers {
			all[l.Digest] = true
		}
	}
	mu.Lock()
	again := stored["rerun"]
	for _, run := range stored {
		for _, d := range run {
			delete(all, d)
		}
	}
	mu.Unlock()
	for _, d := range again {
		if had[d] && !configs[d] {
			t.Errorf("the rerun sent layer %s again; the first run had stored it", short(d))
		}
	}
	if len(all) > 0 || ft2.uploads != len(again) || res.Sent != len(again) {
		t.Fatalf("rerun uploaded %d blobs (result %+v, the registry took %d from it); %d of 6 never stored",
			ft2.uploads, res, len(again), len(all))
	}
	b, _, err := Clone(ctx, url, filepath.Join(t.TempDir(), "b"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, b, refs.Heads+"main"); got != tip {
		t.Fatalf("clone after resumed push: %s, want %s", got, tip)
	}
}

// An interrupted fetch leaves no ref and a clean store; the rerun
// receives only the blobs still missing.
func TestInterruptedFetchResumes(t *testing.T) {
	ctx := context.Background()
	url := inProcessRegistry(t, nil) + "/env"
	a, tip := threeCommits(t)
	if _, err := connect(t, a, "origin", url, Options{}).Push(ctx, a, refs.Heads+"main", PushOptions{}); err != nil {
		t.Fatal(err)
	}
	b := newRepo(t)
	ft := &faultTransport{failAfter: 4}
	s := connect(t, b, "origin", url, Options{Transport: ft, Jobs: 2})
	s.noAncestors = true // counts blobs of commits; lists: ancestors_test.go
	if _, err := s.Fetch(ctx, b, nil); err == nil {
		t.Fatal("fetch through a failing connection succeeded")
	}
	if b.Refs.Exists("refs/remotes/origin/main") {
		t.Fatal("remote-tracking ref moved by a failed fetch")
	}
	checkFsck(t, b)
	stored := blobCount(t, b)
	ft2 := &faultTransport{failAfter: -1}
	s = connect(t, b, "origin", url, Options{Transport: ft2})
	s.noAncestors = true
	res, err := s.Fetch(ctx, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	// blobCount counts layer indexes too: layers were stored with theirs.
	if ft2.downloads >= 6 || ft2.downloads != res.Blobs || res.Commits != 3 {
		t.Fatalf("rerun downloaded %d blobs (%+v), %d blob files were already stored", ft2.downloads, res, stored)
	}
	if got := mustRead(t, b, "refs/remotes/origin/main"); got != tip {
		t.Fatalf("origin/main = %s, want %s", got, tip)
	}
	checkFsck(t, b)
}

// A registry that serves a blob whose content does not match its digest
// is refused, and nothing of the fetch is stored.
func TestCorruptBlobRefused(t *testing.T) {
	ctx := context.Background()
	// "ancestor config": the parent's config, which fetch asks for beside
	// the parent's manifest (prefetchConfig) while it walks the ancestor
	// list; a bad one there must fail the fetch all the same.
	for _, which := range []string{"layer", "config", "ancestor config"} {
		t.Run(which, func(t *testing.T) {
			a, _ := threeCommits(t)
			c, _ := a.Resolve("main")
			target := c.Manifest.Layers[2].Digest
			switch which {
			case "config":
				target = c.Manifest.Config.Digest
			case "ancestor config":
				p, err := a.Objects.ReadCommit(c.Parent())
				if err != nil {
					t.Fatal(err)
				}
				target = p.Manifest.Config.Digest
			}
			url := inProcessRegistry(t, func(h http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
					if req.Method != http.MethodGet || !strings.HasSuffix(req.URL.Path, target.String()) {
						h.ServeHTTP(w, req)
						return
					}
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					body := bytes.Clone(rec.Body.Bytes())
					body[len(body)/2] ^= 0xff
					for k, v := range rec.Header() {
						w.Header()[k] = v
					}
					w.WriteHeader(rec.Code)
					w.Write(body)
				})
			}) + "/env"
			if _, err := connect(t, a, "origin", url, Options{}).Push(ctx, a, refs.Heads+"main", PushOptions{}); err != nil {
				t.Fatal(err)
			}
			b := newRepo(t)
			_, err := connect(t, b, "origin", url, Options{Jobs: 1}).Fetch(ctx, b, nil)
			if err == nil || !strings.Contains(err.Error(), target.Encoded()[:12]) {
				t.Fatalf("fetch of a corrupt blob: %v", err)
			}
			if b.Objects.Has(target) || b.Refs.Exists("refs/remotes/origin/main") {
				t.Fatal("corrupt blob or ref stored")
			}
			if n, _ := b.Objects.CommitsWithPrefix(""); len(n) != 0 {
				t.Fatalf("%d commits stored by a failed fetch", len(n))
			}
			checkFsck(t, b)
		})
	}
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

// A push sends local blobs as the files are, without hashing them on the
// way; a blob damaged on disk is still never accepted: the registry's
// digest check (and a layout's Store.Put) refuses it, and no tag moves.
func TestPushOfDamagedBlobRefused(t *testing.T) {
	ctx := context.Background()
	reg := testregistry.Start(t)
	for _, kind := range []string{"registry", "layout"} {
		t.Run(kind, func(t *testing.T) {
			a, _ := threeCommits(t)
			c, _ := a.Resolve("main")
			l := c.Manifest.Layers[2].Digest
			p := a.Objects.BlobPath(l)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)/2] ^= 0xff // same size, other bytes
			if err := os.Chmod(p, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, b, 0o444); err != nil {
				t.Fatal(err)
			}
			url := reg.Repo("damaged")
			if kind == "layout" {
				url = filepath.Join(t.TempDir(), "layout")
			}
			s := connect(t, a, "origin", url, Options{})
			_, err = s.Push(ctx, a, refs.Heads+"main", PushOptions{})
			if !errors.Is(err, objects.ErrDigestMismatch) || !strings.Contains(err.Error(), l.Encoded()[:12]) {
				t.Fatalf("push of a damaged blob: %v, want a digest mismatch naming %s", err, short(l))
			}
			if _, err := s.t.headManifest(ctx, "main"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("tag main after a refused push: %v", err)
			}
			if a.Refs.Exists("refs/remotes/origin/main") {
				t.Fatal("remote-tracking ref moved by a refused push")
			}
		})
	}
}
