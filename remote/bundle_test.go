package remote

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/testregistry"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// requestLog records the digests a client asked the registry for
// (GETs of manifests and blobs by digest answered 200).
type requestLog struct {
	mu   sync.Mutex
	gets map[digest.Digest]int
	// refuse answers 404 to GETs of these blobs, as a registry that
	// lost them would.
	refuse map[digest.Digest]bool
}

func (l *requestLog) RoundTrip(req *http.Request) (*http.Response, error) {
	d := digest.Digest(req.URL.Path[strings.LastIndexByte(req.URL.Path, '/')+1:])
	if req.Method == http.MethodGet && l.refuse[d] {
		return &http.Response{StatusCode: http.StatusNotFound, Status: "404 Not Found", Request: req,
			Header: http.Header{}, Body: http.NoBody}, nil
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || req.Method != http.MethodGet || d.Validate() != nil || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	l.mu.Lock()
	if l.gets == nil {
		l.gets = map[digest.Digest]int{}
	}
	l.gets[d]++
	l.mu.Unlock()
	return resp, err
}

// configOf is commit d's config digest.
func configOf(t testing.TB, r *repo.Repo, d digest.Digest) digest.Digest {
	t.Helper()
	m, err := r.Objects.ReadManifest(d)
	if err != nil {
		t.Fatal(err)
	}
	return m.Config.Digest
}

// bundleOf returns the digest of the bundle blob of commit d's list, ""
// for none.
func bundleOf(t testing.TB, s *Session, d digest.Digest) digest.Digest {
	t.Helper()
	l, err := s.readAncestorsErr(context.Background(), d)
	if err != nil {
		t.Fatalf("list of %s: %v", short(d), err)
	}
	b, err := s.bundleBlob(context.Background(), l)
	if err != nil {
		t.Fatalf("bundle of %s: %v", short(d), err)
	}
	return b.Digest
}

// pushSmallWindow pushes n commits with a config each under a window of
// 8 entries and returns the history (tip first) and the commit whose
// list is full: h[n-9], commit 9, listing 8 down to the root.
func pushSmallWindow(t *testing.T, reg *testregistry.Registry, name string, n int, o Options) (*repo.Repo, *Session, string, []digest.Digest, digest.Digest) {
	t.Helper()
	old := ancestorsWindow
	ancestorsWindow = 8
	t.Cleanup(func() { ancestorsWindow = old })
	url := reg.Repo(name)
	a := newRepo(t)
	tip := metaCommits(t, a, "main", n, true)
	s := connect(t, a, "origin", url, o)
	if _, err := s.Push(context.Background(), a, refs.Heads+"main", PushOptions{}); err != nil {
		t.Fatal(err)
	}
	h := history(t, a, tip)
	return a, s, url, h, h[n-1-ancestorsWindow]
}

// editBundle rewrites the entries of a bundle: f returns an entry's new
// content, nil to leave it out.
func editBundle(t *testing.T, raw []byte, f func(name digest.Digest, b []byte) []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	tr := tar.NewReader(bytes.NewReader(raw))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if b = f(digest.NewDigestFromEncoded(digest.SHA256, strings.TrimPrefix(hdr.Name, bundlePrefix)), b); b == nil {
			continue
		}
		hdr.Size = int64(len(b))
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		tw.Write(b)
	}
	tw.Close()
	return out.Bytes()
}

// A bundle whose entries do not match their names, lacks some, or is no
// bundle at all: what it gets wrong is not used but asked for alone, and
// the clone is the same.
func TestCorruptHistoryBundle(t *testing.T) {
	const n = 12
	ctx := context.Background()
	reg := testregistry.Start(t)
	a, s, url, h, full := pushSmallWindow(t, reg, "corrupt", n, Options{})
	l, err := s.readAncestorsErr(ctx, full)
	if err != nil || l.bundleManifest.Digest == "" {
		t.Fatalf("full list: %+v, %v; want one with a bundle", l, err)
	}
	good, _, err := buildBundle(a.Objects, *l)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(b []byte) []byte {
		b = bytes.Clone(b)
		b[len(b)/2] ^= 1
		return b
	}
	// h[4:] are commits 8 to 1, the list's entries.
	badManifest, badConfig, dropped, intact := h[5], configOf(t, a, h[6]), h[7], h[4]
	for _, tc := range []struct {
		name   string
		bundle []byte
		// asked: digests the clone must ask for once; not: never.
		asked, not []digest.Digest
	}{
		{"bad entries", editBundle(t, good, func(d digest.Digest, b []byte) []byte {
			switch d {
			case badManifest, badConfig:
				return flip(b)
			case dropped:
				return nil
			}
			return b
		}), []digest.Digest{badManifest, badConfig, dropped}, []digest.Digest{intact, configOf(t, a, intact), configOf(t, a, dropped)}},
		{"not a tar", bytes.Repeat([]byte("strata"), 1000), []digest.Digest{intact, h[n-1]}, nil},
		{"cut short", good[:len(good)/2], []digest.Digest{h[n-1]}, []digest.Digest{intact}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.writeList(ctx, a.Objects, full, *l, tc.bundle); err != nil {
				t.Fatal(err)
			}
			var log requestLog
			b, _, err := Clone(ctx, url+":main", filepath.Join(t.TempDir(), "b"), Options{Transport: &log})
			if err != nil {
				t.Fatal(err)
			}
			sameHistory(t, a, b, h[0], n)
			checkFsck(t, b)
			for _, d := range tc.asked {
				if log.gets[d] != 1 {
					t.Errorf("%s asked for %d times, want 1", short(d), log.gets[d])
				}
			}
			for _, d := range tc.not {
				if log.gets[d] != 0 {
					t.Errorf("%s asked for %d times though the bundle has it", short(d), log.gets[d])
				}
			}
		})
	}
}

// refuseBundles is a registry that takes ancestor lists but refuses
// manifests that name a history bundle.
type refuseBundles struct{ next http.RoundTripper }

func (r refuseBundles) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPut && strings.Contains(req.URL.Path, "/manifests/") && req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		if bytes.Contains(b, []byte(objects.MediaTypeHistoryBundle)) {
			return &http.Response{StatusCode: http.StatusBadRequest, Status: "400 Bad Request", Request: req,
				Header: http.Header{}, Body: http.NoBody}, nil
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	return r.next.RoundTrip(req)
}

// A registry that deleted the bundle's blob, and one that refuses
// bundles: the clone is the same.
func TestCloneWithoutHistoryBundle(t *testing.T) {
	const n = 12
	ctx := context.Background()
	reg := testregistry.Start(t)

	t.Run("blob deleted", func(t *testing.T) {
		a, s, url, h, full := pushSmallWindow(t, reg, "deleted", n, Options{})
		bd := bundleOf(t, s, full)
		if bd == "" {
			t.Fatal("the full list has no bundle")
		}
		req, _ := http.NewRequest(http.MethodDelete, "http://"+reg.Repo("v2/deleted/blobs/"+bd.String()), nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("delete bundle blob: %s", resp.Status)
		}
		var log requestLog
		b, _, err := Clone(ctx, url+":main", filepath.Join(t.TempDir(), "b"), Options{Transport: &log})
		if err != nil {
			t.Fatal(err)
		}
		sameHistory(t, a, b, h[0], n)
		checkFsck(t, b)
		if log.gets[bd] != 0 || log.gets[h[n-1]] != 1 {
			t.Fatalf("bundle served %d times, root asked for %d times; want 0 and 1", log.gets[bd], log.gets[h[n-1]])
		}
	})

	t.Run("registry refuses them", func(t *testing.T) {
		a, s, url, h, full := pushSmallWindow(t, reg, "refusing", n, Options{Transport: refuseBundles{http.DefaultTransport}})
		if got := fmt.Sprint(listChain(t, s, h[0])); got != "[3 8]" {
			t.Fatalf("list sizes: %s, want [3 8]", got)
		}
		if bd := bundleOf(t, s, full); bd != "" {
			t.Fatalf("the full list has bundle %s", bd)
		}
		b, _, err := Clone(ctx, url+":main", filepath.Join(t.TempDir(), "b"), Options{})
		if err != nil {
			t.Fatal(err)
		}
		sameHistory(t, a, b, h[0], n)
		checkFsck(t, b)
	})
}
