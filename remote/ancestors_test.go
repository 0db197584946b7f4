package remote

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/internal/testregistry"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// metaCommits adds n commits without layers on branch, cheaply: each
// keeps only its own history entry, so configs stay small, and with
// distinct false they all share one config (the manifests still differ by
// their parents). It returns the tip.
func metaCommits(t testing.TB, r *repo.Repo, branch string, n int, distinct bool) digest.Digest {
	t.Helper()
	name := refs.Heads + branch
	old, _ := r.Refs.Read(name)
	var parent *objects.Commit
	if old != "" {
		var err error
		if parent, err = r.Objects.ReadCommit(old); err != nil {
			t.Fatal(err)
		}
	}
	date := time.Unix(1700000000, 0)
	for i := 0; i < n; i++ {
		msg := "meta"
		if distinct {
			msg = fmt.Sprintf("meta %d of %s", i, branch)
		}
		c, err := r.Objects.WriteCommit(objects.NewCommit{
			Parent: parent, Author: "Test <t@example.com>", Date: date, Message: msg,
			OS: "linux", Architecture: "amd64", History: []ocispec.History{},
		})
		if err != nil {
			t.Fatal(err)
		}
		parent = c
	}
	if err := r.Refs.Update(name, parent.ID, old, "test commits"); err != nil {
		t.Fatal(err)
	}
	return parent.ID
}

// sameHistory fails unless b has a's history of tip, root included.
func sameHistory(t testing.TB, a, b *repo.Repo, tip digest.Digest, want int) {
	t.Helper()
	ha, hb := history(t, a, tip), history(t, b, tip)
	if len(ha) != want || len(hb) != want {
		t.Fatalf("history: %d commits here, %d in the clone, want %d", len(ha), len(hb), want)
	}
	for i := range ha {
		if ha[i] != hb[i] {
			t.Fatalf("commit %d: %s here, %s in the clone", i, ha[i], hb[i])
		}
	}
	if p, _ := b.Objects.Parent(hb[len(hb)-1]); p != "" || len(b.Shallow()) != 0 {
		t.Fatalf("the clone's history is cut: root has parent %q, shallow %v", p, b.Shallow())
	}
}

// listChain follows the ancestor lists from tip and returns their sizes.
func listChain(t testing.TB, s *Session, tip digest.Digest) []int {
	t.Helper()
	var sizes []int
	for at := tip; at != ""; {
		l, err := s.readAncestorsErr(context.Background(), at)
		if err != nil {
			t.Fatalf("list of %s: %v", short(at), err)
		}
		sizes = append(sizes, len(l.Ancestors))
		at = ""
		if l.Continued {
			at = l.Ancestors[len(l.Ancestors)-1]
		}
	}
	return sizes
}

// pushDeep pushes a history of n commits without layers to a new
// registry and returns the repository, the session, the URL and the tip.
func pushDeep(t testing.TB, n int) (*repo.Repo, *Session, string, digest.Digest) {
	ctx := context.Background()
	reg := testregistry.Start(t)
	url := reg.Repo("deep")
	a := newRepo(t)
	tip := metaCommits(t, a, "main", n, false)
	s := connect(t, a, "origin", url, Options{})
	res, err := s.Push(ctx, a, refs.Heads+"main", PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// One list per window of the one push: the tip's and those it
	// continues into, none longer than the window.
	sizes := listChain(t, s, tip)
	total := 0
	for _, k := range sizes {
		if k > ancestorsWindow {
			t.Fatalf("a list of %d entries (window %d)", k, ancestorsWindow)
		}
		total += k
	}
	if res.Lists != len(sizes) || total != n-1 || res.Commits != n {
		t.Fatalf("push sent %d commits, %d lists; the chain from the tip has %d lists covering %d ancestors, want %d", res.Commits, res.Lists, len(sizes), total, n-1)
	}
	return a, s, url, tip
}

// 2,500 commits: three lists, the last one partly filled. The 10,000 of
// issue 15 are BenchmarkCloneDeepHistory (the push takes a minute). The
// two full lists have history bundles: the clone asks for none of the
// manifests they hold, and gets the same history as a clone that cannot
// read them (a registry that lost them). Configs in bundles:
// bundle_test.go.
func TestDeepHistoryClonesThroughAncestorLists(t *testing.T) {
	const n = 2500
	a, s, url, tip := pushDeep(t, n)
	if got := fmt.Sprint(listChain(t, s, tip)); got != "[499 1000 1000]" {
		t.Fatalf("list sizes: %s, want [499 1000 1000]", got)
	}
	h := history(t, a, tip)
	var bundles []digest.Digest
	for _, d := range []digest.Digest{tip, h[n-1-2*ancestorsWindow], h[n-1-ancestorsWindow]} {
		if bd := bundleOf(t, s, d); bd != "" {
			bundles = append(bundles, bd)
		}
	}
	if len(bundles) != 2 {
		t.Fatalf("%d bundles, want 2 (of the full lists)", len(bundles))
	}
	var log requestLog
	b, res, err := Clone(context.Background(), url+":main", filepath.Join(t.TempDir(), "b"), Options{Transport: &log})
	if err != nil {
		t.Fatal(err)
	}
	if res.Fetch.Commits != n {
		t.Fatalf("clone received %d commits, want %d", res.Fetch.Commits, n)
	}
	sameHistory(t, a, b, tip, n)
	for _, bd := range bundles {
		if log.gets[bd] != 1 {
			t.Fatalf("bundle %s asked for %d times, want 1", short(bd), log.gets[bd])
		}
	}
	for _, d := range h[n-2*ancestorsWindow:] {
		if log.gets[d] != 0 {
			t.Fatalf("commit %s asked for though a bundle has it", short(d))
		}
	}
	if log.gets[h[1]] != 1 {
		t.Fatalf("commit %s (no bundle) asked for %d times, want 1", short(h[1]), log.gets[h[1]])
	}
	lost := requestLog{refuse: map[digest.Digest]bool{bundles[0]: true, bundles[1]: true}}
	c, _, err := Clone(context.Background(), url+":main", filepath.Join(t.TempDir(), "c"), Options{Transport: &lost})
	if err != nil {
		t.Fatal(err)
	}
	sameHistory(t, a, c, tip, n)
	if d := h[n-1]; lost.gets[d] != 1 {
		t.Fatalf("without bundles, the root was asked for %d times, want 1", lost.gets[d])
	}
}

// BenchmarkCloneDeepHistory clones a 10,000-commit history from the local
// registry (go test -run '^$' -bench CloneDeep -benchtime 3x ./remote/);
// with -short (make test runs every benchmark once so), 1,100 commits:
// one full ancestor list, with its bundle, and a partial one.
func BenchmarkCloneDeepHistory(b *testing.B) {
	n := 10000
	if testing.Short() {
		n = ancestorsWindow + 100
	}
	a, _, url, tip := pushDeep(b, n)
	i := 0
	for b.Loop() {
		dst := filepath.Join(b.TempDir(), fmt.Sprint(i))
		i++
		c, res, err := Clone(context.Background(), url+":main", dst, Options{})
		if err != nil || res.Fetch.Commits != n {
			b.Fatalf("clone: %d commits, %v", res.Fetch.Commits, err)
		}
		b.StopTimer()
		if c.Objects.Has(tip) != a.Objects.Has(tip) {
			b.Fatal("tip missing")
		}
		os.RemoveAll(dst)
		b.StartTimer()
	}
}

// A list is extended by the next push until it is full: pushes of one
// commit at a time write small lists and a clone still gets everything.
func TestAncestorListsAcrossPushes(t *testing.T) {
	old := ancestorsWindow
	ancestorsWindow = 4
	t.Cleanup(func() { ancestorsWindow = old })
	ctx := context.Background()
	reg := testregistry.Start(t)
	url := reg.Repo("steps")
	a := newRepo(t)
	s := connect(t, a, "origin", url, Options{})
	var tip digest.Digest
	for i := 0; i < 11; i++ {
		tip = metaCommits(t, a, "main", 1, true)
		if _, err := s.Push(ctx, a, refs.Heads+"main", PushOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// 10 ancestors: lists of 2, 4 and 4 entries (the root lists nothing).
	if got := fmt.Sprint(listChain(t, s, tip)); got != "[2 4 4]" {
		t.Fatalf("list sizes from the tip: %s, want [2 4 4]", got)
	}
	b, _, err := Clone(ctx, url, filepath.Join(t.TempDir(), "b"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	sameHistory(t, a, b, tip, 11)
	checkFsck(t, b)
}

func TestLyingAncestorListRefused(t *testing.T) {
	ctx := context.Background()
	reg := testregistry.Start(t)
	a := newRepo(t)
	other := metaCommits(t, a, "other", 3, true)
	tip := metaCommits(t, a, "main", 5, true)
	h := history(t, a, tip) // tip first
	ho := history(t, a, other)
	for _, tc := range []struct {
		name string
		list []digest.Digest
		want string
	}{
		{"swapped", []digest.Digest{h[2], h[1], h[3], h[4]}, "names " + short(h[2]) + " where the parent is " + short(h[1])},
		{"foreign", []digest.Digest{h[1], ho[1], ho[2]}, "names " + short(ho[1]) + " where the parent is " + short(h[2])},
		{"past the root", []digest.Digest{h[1], h[2], h[3], h[4], ho[0]}, "names " + short(ho[0]) + " past where the history ends"},
	} {
		for _, form := range listForms {
			t.Run(tc.name+" as "+form, func(t *testing.T) {
				url := pushWithList(t, reg, a, strings.ReplaceAll(tc.name, " ", "-")+"-"+form, form, ancestorList{Commit: tip, Ancestors: tc.list}, "other", "main")
				b := newRepo(t)
				res, err := connect(t, b, "origin", url, Options{}).Fetch(ctx, b, []string{"main"})
				if !errors.Is(err, ErrBadAncestors) || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("fetch with a lying list: %v, want %q", err, tc.want)
				}
				// Nothing of it stored, nothing referenced.
				if res.Commits != 0 || res.Blobs != 0 {
					t.Fatalf("fetch stored %d commits, %d blobs", res.Commits, res.Blobs)
				}
				for _, d := range append(h, ho...) {
					if b.Objects.Has(d) {
						t.Fatalf("commit %s stored", short(d))
					}
				}
				if got, _ := b.Refs.List(refs.Remotes); len(got) != 0 {
					t.Fatalf("refs after a refused fetch: %v", got)
				}
			})
		}
	}
}

// TestMalformedAncestorListIgnored: a list no strata writes (an entry
// twice, an entry that is a tag) is not used at all: its entries would be
// fetched before any is checked, as many times as named, and a tag
// fetched as a tag. The fetch follows the parent chain and gets the whole
// history.
func TestMalformedAncestorListIgnored(t *testing.T) {
	ctx := context.Background()
	reg := testregistry.Start(t)
	a := newRepo(t)
	tip := metaCommits(t, a, "main", 5, true)
	h := history(t, a, tip) // tip first
	for _, tc := range []struct {
		name, form string
		list       []digest.Digest
	}{
		{"twice", "index", []digest.Digest{h[1], h[1], h[2], h[3], h[4]}},
		{"twice", "artifact", []digest.Digest{h[1], h[1], h[2], h[3], h[4]}},
		// A registry takes no index of a tag.
		{"tag", "artifact", []digest.Digest{h[1], "main", h[3], h[4]}},
	} {
		t.Run(tc.name+" as "+tc.form, func(t *testing.T) {
			url := pushWithList(t, reg, a, tc.name+"-"+tc.form, tc.form, ancestorList{Commit: tip, Ancestors: tc.list}, "main")
			b := newRepo(t)
			if _, err := connect(t, b, "origin", url, Options{}).Fetch(ctx, b, []string{"main"}); err != nil {
				t.Fatalf("fetch past a malformed list: %v", err)
			}
			for _, d := range h {
				if !b.Objects.Has(d) {
					t.Fatalf("commit %s missing", short(d))
				}
			}
		})
	}
}

// listForms are the forms of a list fetch reads: the index a push
// writes, and the artifact manifest of earlier stratas.
var listForms = []string{"index", "artifact"}

// pushWithList pushes a's branches to the registry repository name, then
// puts l, in form, in place of the list the push wrote for l.Commit; it
// returns the repository's URL.
func pushWithList(t *testing.T, reg *testregistry.Registry, a *repo.Repo, name, form string, l ancestorList, branches ...string) string {
	t.Helper()
	ctx := context.Background()
	url := reg.Repo(name)
	s := connect(t, a, name, url, Options{})
	for _, br := range branches {
		if _, err := s.Push(ctx, a, refs.Heads+br, PushOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if form == "artifact" {
		writeArtifactList(t, s, l, nil)
	} else if err := s.writeAncestors(ctx, a.Objects, l); err != nil {
		t.Fatal(err)
	}
	return url
}

// dropLists is a registry that refuses ancestor lists, as one that keeps
// only images would.
type dropLists struct{ next http.RoundTripper }

func (d dropLists) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPut && strings.HasSuffix(req.URL.Path, ancestorsTagSuffix) {
		return &http.Response{StatusCode: http.StatusBadRequest, Status: "400 Bad Request", Request: req,
			Header: http.Header{}, Body: http.NoBody}, nil
	}
	return d.next.RoundTrip(req)
}

func TestCloneWithoutAncestorLists(t *testing.T) {
	ctx := context.Background()
	reg := testregistry.Start(t)
	a := newRepo(t)
	first := metaCommits(t, a, "main", 30, true)

	t.Run("written by a strata without lists, then with", func(t *testing.T) {
		url := reg.Repo("mixed")
		s := connect(t, a, "mixed", url, Options{})
		s.noAncestors = true
		if _, err := s.Push(ctx, a, refs.Heads+"main", PushOptions{}); err != nil {
			t.Fatal(err)
		}
		s.noAncestors = false
		if _, err := s.readAncestorsErr(ctx, first); !errors.Is(err, ErrNotFound) {
			t.Fatalf("list of a commit pushed without lists: %v", err)
		}
		b, _, err := Clone(ctx, url, filepath.Join(t.TempDir(), "b"), Options{})
		if err != nil {
			t.Fatal(err)
		}
		sameHistory(t, a, b, first, 30)
		// Lists on top of a history without them: they end where it begins.
		tip := metaCommits(t, a, "main", 5, true)
		t.Cleanup(func() { a.Refs.Update(refs.Heads+"main", first, tip, "test") })
		if _, err := s.Push(ctx, a, refs.Heads+"main", PushOptions{}); err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(listChain(t, s, tip)); got != "[5]" {
			t.Fatalf("list sizes: %s, want [5]", got)
		}
		c, _, err := Clone(ctx, url, filepath.Join(t.TempDir(), "c"), Options{})
		if err != nil {
			t.Fatal(err)
		}
		sameHistory(t, a, c, tip, 35)
		checkFsck(t, c)
	})

	t.Run("registry refuses them", func(t *testing.T) {
		url := reg.Repo("dropping")
		o := Options{Transport: dropLists{http.DefaultTransport}}
		res, err := connect(t, a, "dropping", url, o).Push(ctx, a, refs.Heads+"main", PushOptions{})
		if err != nil || res.Lists != 0 {
			t.Fatalf("push to a registry refusing lists: %+v, %v", res, err)
		}
		b, _, err := Clone(ctx, url, filepath.Join(t.TempDir(), "b"), Options{})
		if err != nil {
			t.Fatal(err)
		}
		sameHistory(t, a, b, mustRead(t, a, refs.Heads+"main"), 30)
		checkFsck(t, b)
	})
}
