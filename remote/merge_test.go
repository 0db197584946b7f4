package remote

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/testregistry"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// mergeHistory builds, on main,
//
//	m0 - m1 - M      (M merges s2; its layers are m1's plus s1's and s2's)
//	  \      /
//	   s1 - s2
//
// and deletes the side branch, so only M's second parent reaches s1, s2
// and their layers. It returns M and s2.
func mergeHistory(t testing.TB, r *repo.Repo) (digest.Digest, digest.Digest) {
	t.Helper()
	m0 := commitFile(t, r, "main", "etc/base", "0")
	if err := r.Refs.Update(refs.Heads+"side", m0, "", "test"); err != nil {
		t.Fatal(err)
	}
	m1 := commitFile(t, r, "main", "etc/main", "1")
	commitFile(t, r, "side", "etc/side1", "s1")
	s2 := commitFile(t, r, "side", "etc/side2", "s2")
	return fakeMerge(t, r, "main", m1, s2), s2
}

// fakeMerge writes a merge of theirs into branch (at ours): ours' layers
// plus theirs' since the merge base, as merge does when nothing conflicts.
func fakeMerge(t testing.TB, r *repo.Repo, branch string, ours, theirs digest.Digest) digest.Digest {
	t.Helper()
	oc, err := r.Objects.ReadCommit(ours)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := r.Objects.ReadCommit(theirs)
	if err != nil {
		t.Fatal(err)
	}
	base, err := repo.MergeBase(r.Objects, ours, theirs)
	if err != nil {
		t.Fatal(err)
	}
	bc, err := r.Objects.ReadCommit(base)
	if err != nil {
		t.Fatal(err)
	}
	m, err := r.Objects.WriteCommit(objects.NewCommit{Parent: oc, MergeParent: theirs, Layers: tc.Layers()[len(bc.Layers()):],
		Author: "Test <t@example.com>", Date: time.Unix(1700000000, 0), Message: "merge"})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Refs.Update(refs.Heads+branch, m.ID, ours, "merge"); err != nil {
		t.Fatal(err)
	}
	if err := r.Refs.Delete(refs.Heads+"side", refs.Any, "test"); err != nil && !errors.Is(err, refs.ErrNotFound) {
		t.Fatal(err)
	}
	return m.ID
}

// allCommits lists the commits r has of tip's history, both parents.
func allCommits(t testing.TB, r *repo.Repo, tip digest.Digest) map[digest.Digest]bool {
	t.Helper()
	out := map[digest.Digest]bool{}
	err := repo.WalkAncestors(r.Objects, tip, func(d digest.Digest) bool {
		if r.Objects.Has(d) {
			out[d] = true
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sameCommits fails unless b has every commit and layer of a's history
// of tip, through both parents, and fsck is clean.
func sameCommits(t testing.TB, a, b *repo.Repo, tip digest.Digest, want int) {
	t.Helper()
	ha, hb := allCommits(t, a, tip), allCommits(t, b, tip)
	if len(ha) != want || len(hb) != want {
		t.Fatalf("history: %d commits here, %d there, want %d", len(ha), len(hb), want)
	}
	for d := range ha {
		c, err := b.Objects.ReadCommit(d)
		if err != nil {
			t.Fatalf("commit %s: %v", short(d), err)
		}
		for _, l := range c.Layers() {
			if !b.Objects.Has(l.Desc.Digest) {
				t.Fatalf("commit %s: layer %s missing", short(d), short(l.Desc.Digest))
			}
		}
	}
	if len(b.Shallow()) != 0 {
		t.Fatalf("history cut: shallow %v", b.Shallow())
	}
	checkFsck(t, b)
}

// A merge whose second branch was never pushed: push sends both lines,
// with a list each; a clone gets all of it; a later push sends only what
// is new.
func TestPushMergeToRegistryAndClone(t *testing.T) {
	ctx := context.Background()
	reg := testregistry.Start(t)
	url := reg.Repo("merge")
	a := newRepo(t)
	tip, s2 := mergeHistory(t, a)
	s := connect(t, a, "origin", url, Options{})
	res, err := s.Push(ctx, a, refs.Heads+"main", PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Commits != 5 || res.Lists != 2 {
		t.Fatalf("push of a merge: %+v, want 5 commits and 2 lists (the tip's line, the side's)", res)
	}
	l, err := s.readAncestorsErr(ctx, tip)
	if err != nil || len(l.Ancestors) != 2 || l.Merges[tip] != s2 || len(l.Merges) != 1 {
		t.Fatalf("the tip's list: %+v %v", l, err)
	}
	if l, err := s.readAncestorsErr(ctx, s2); err != nil || len(l.Ancestors) != 2 || l.Merges != nil {
		t.Fatalf("the side's list: %+v %v", l, err)
	}

	b, cres, err := Clone(ctx, url, filepath.Join(t.TempDir(), "b"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if cres.Fetch.Commits != 5 {
		t.Fatalf("clone: %+v", cres.Fetch)
	}
	sameCommits(t, a, b, tip, 5)

	tip2 := commitFile(t, a, "main", "etc/after", "x")
	res, err = s.Push(ctx, a, refs.Heads+"main", PushOptions{})
	if err != nil || res.Commits != 1 || res.Sent != 2 {
		t.Fatalf("push after the merge: %+v %v", res, err)
	}
	// The new tip's list extends the merge's, which it names.
	if l, err := s.readAncestorsErr(ctx, tip2); err != nil || len(l.Ancestors) != 3 || l.Ancestors[0] != tip || len(l.Merges) != 1 || l.Merges[tip] != s2 {
		t.Fatalf("the list after the merge: %+v %v", l, err)
	}
	fres, err := connect(t, b, "origin", url, Options{}).Fetch(ctx, b, nil)
	if err != nil || fres.Commits != 1 {
		t.Fatalf("fetch after the merge: %+v %v", fres, err)
	}
	sameCommits(t, a, b, tip2, 6)
}

// A merge of a branch the remote has: only the merge is sent, whether a
// remote-tracking ref says the branch is there or a HEAD request finds it.
func TestPushMergeOfPushedBranch(t *testing.T) {
	ctx := context.Background()
	reg := testregistry.Start(t)
	for _, tracked := range []bool{true, false} {
		url := reg.Repo("pushed-" + map[bool]string{true: "tracked", false: "untracked"}[tracked])
		a := newRepo(t)
		m0 := commitFile(t, a, "main", "etc/base", "0")
		if err := a.Refs.Update(refs.Heads+"side", m0, "", "test"); err != nil {
			t.Fatal(err)
		}
		m1 := commitFile(t, a, "main", "etc/main", "1")
		commitFile(t, a, "side", "etc/side1", "s1")
		s2 := commitFile(t, a, "side", "etc/side2", "s2")
		s := connect(t, a, "origin", url, Options{})
		for _, br := range []string{"main", "side"} {
			if _, err := s.Push(ctx, a, refs.Heads+br, PushOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		if !tracked {
			if err := a.Refs.Delete(refs.Remotes+"origin/side", refs.Any, "test"); err != nil {
				t.Fatal(err)
			}
		}
		tip := fakeMerge(t, a, "main", m1, s2)
		res, err := s.Push(ctx, a, refs.Heads+"main", PushOptions{})
		if err != nil || res.Commits != 1 || res.Sent != 1 {
			// The merge's layers are all there: only its config is new.
			t.Fatalf("tracked %v: push of the merge: %+v %v; want 1 commit, 1 blob", tracked, res, err)
		}
		b, _, err := Clone(ctx, url, filepath.Join(t.TempDir(), "b"), Options{})
		if err != nil {
			t.Fatal(err)
		}
		sameCommits(t, a, b, tip, 5)
	}
}

// A list that misstates a merge's second parent is refused like one that
// misstates a parent.
func TestLyingMergeInAncestorList(t *testing.T) {
	ctx := context.Background()
	reg := testregistry.Start(t)
	a := newRepo(t)
	tip, s2 := mergeHistory(t, a)
	m1, err := a.Objects.Parent(tip)
	if err != nil {
		t.Fatal(err)
	}
	m0, _ := a.Objects.Parent(m1)
	for _, tc := range []struct {
		name   string
		merges map[digest.Digest]digest.Digest
		want   string
	}{
		{"unsaid", nil, "says it merged nothing where its manifest says " + short(s2)},
		{"invented", map[digest.Digest]digest.Digest{tip: s2, m1: s2}, "says " + short(m1) + " merged " + short(s2) + " where its manifest says nothing"},
		{"other", map[digest.Digest]digest.Digest{tip: m0}, "says it merged " + short(m0) + " where its manifest says " + short(s2)},
	} {
		for _, form := range listForms {
			t.Run(tc.name+" as "+form, func(t *testing.T) {
				url := pushWithList(t, reg, a, tc.name+"-"+form, form, ancestorList{Commit: tip, Ancestors: []digest.Digest{m1, m0}, Merges: tc.merges}, "main")
				b := newRepo(t)
				res, err := connect(t, b, "origin", url, Options{}).Fetch(ctx, b, []string{"main"})
				if !errors.Is(err, ErrBadAncestors) || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("fetch with a lying list: %v, want %q", err, tc.want)
				}
				if res.Commits != 0 || res.Blobs != 0 || b.Objects.Has(tip) {
					t.Fatalf("fetch stored %d commits, %d blobs", res.Commits, res.Blobs)
				}
			})
		}
	}
}

// Where the registry lost a merge's second parent, fetch keeps the rest
// and marks the merge shallow; fsck is clean.
func TestFetchShallowWhereMergeParentIsGone(t *testing.T) {
	ctx := context.Background()
	reg := testregistry.Start(t)
	url := reg.Repo("env")
	a := newRepo(t)
	tip, s2 := mergeHistory(t, a)
	if _, err := connect(t, a, "origin", url, Options{}).Push(ctx, a, refs.Heads+"main", PushOptions{}); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodDelete, "http://"+reg.Host+"/v2/env/manifests/"+s2.String(), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("delete manifest: %v %v", resp, err)
	}
	b, res, err := Clone(ctx, url, filepath.Join(t.TempDir(), "b"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Fetch.Commits != 3 || !b.Shallow()[tip] || b.Objects.Has(s2) {
		t.Fatalf("clone without the merge's second parent: %+v, shallow %v", res.Fetch, b.Shallow())
	}
	checkFsck(t, b)
	// fsck still checks what the first parent reaches.
	m1, _ := b.Objects.Parent(tip)
	m0, _ := b.Objects.Parent(m1)
	if err := b.Objects.Delete(m0); err != nil {
		t.Fatal(err)
	}
	if fr, err := b.Fsck(ctx); err != nil || len(fr.Problems) != 1 || !strings.Contains(fr.Problems[0].What, "parent "+short(m0)+" is missing") {
		t.Fatalf("fsck of a shallow merge whose first line lost a commit: %v %v", fr.Problems, err)
	}
}

// An OCI layout directory as the remote, and a gzip push: both lines go,
// and come back whole.
func TestPushMergeToLayoutAndGzip(t *testing.T) {
	ctx := context.Background()
	a := newRepo(t)
	tip, _ := mergeHistory(t, a)
	dir := filepath.Join(t.TempDir(), "shared")
	res, err := connect(t, a, "shared", dir, Options{}).Push(ctx, a, refs.Heads+"main", PushOptions{})
	if err != nil || res.Commits != 5 {
		t.Fatalf("push to a directory: %+v %v", res, err)
	}
	b, _, err := Clone(ctx, dir, filepath.Join(t.TempDir(), "b"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	sameCommits(t, a, b, tip, 5)

	reg := testregistry.Start(t)
	url := reg.Repo("gz")
	res, err = connect(t, a, "origin", url, Options{}).Push(ctx, a, refs.Heads+"main", PushOptions{Compression: "gzip"})
	if err != nil || res.Commits != 5 || res.New == tip {
		t.Fatalf("gzip push of a merge: %+v %v", res, err)
	}
	c, _, err := Clone(ctx, url, filepath.Join(t.TempDir(), "c"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := allCommits(t, c, res.New)
	if len(got) != 5 || len(c.Shallow()) != 0 {
		t.Fatalf("clone of a gzip merge: %d commits, shallow %v", len(got), c.Shallow())
	}
	for d := range got {
		cc, err := c.Objects.ReadCommit(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range cc.Layers() {
			if l.Desc.MediaType != "application/vnd.oci.image.layer.v1.tar+gzip" {
				t.Fatalf("commit %s: layer of %s", short(d), l.Desc.MediaType)
			}
		}
	}
	checkFsck(t, c)
}

// TestTopoOrder: whatever order a fetch of several tags planned its
// commits in, they are stored parents first (children first here).
func TestTopoOrder(t *testing.T) {
	id := func(s string) digest.Digest { return digest.FromString(s) }
	parents := map[digest.Digest][]digest.Digest{
		id("m"): {id("a"), id("b")}, id("a"): {id("r")}, id("b"): {id("r")}, id("t2"): {id("b")}, id("r"): nil,
	}
	// As two tags plan them: t2's line stops at b, which m's brought.
	in := []digest.Digest{id("m"), id("a"), id("r"), id("b"), id("t2")}
	out := topoOrder(in, func(d digest.Digest) digest.Digest { return d }, func(d digest.Digest) []digest.Digest { return parents[d] })
	pos := map[digest.Digest]int{}
	for i, d := range out {
		pos[d] = i
	}
	if len(out) != len(in) {
		t.Fatalf("%d of %d commits ordered", len(out), len(in))
	}
	for c, ps := range parents {
		for _, p := range ps {
			if pos[c] > pos[p] {
				t.Errorf("a parent comes before its child: %v", out)
			}
		}
	}
}
