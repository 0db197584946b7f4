package repo

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/objects"
)

// TestMergeBase builds
//
//	r - a1 - a2 - m - a3      (m merges b2 into a2)
//	  \          /
//	    b1 - b2 - b3
//
// and checks merge bases and ancestry across the merge.
func TestMergeBase(t *testing.T) {
	s, err := objects.Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	commit := func(parent *objects.Commit, merge digest.Digest) *objects.Commit {
		n++
		c, err := s.WriteCommit(objects.NewCommit{Parent: parent, MergeParent: merge,
			Date: time.Unix(int64(n), 0), Message: string(rune('a' + n)), OS: "linux", Architecture: "amd64"})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	r := commit(nil, "")
	a1 := commit(r, "")
	a2 := commit(a1, "")
	b1 := commit(r, "")
	b2 := commit(b1, "")
	b3 := commit(b2, "")
	m := commit(a2, b2.ID)
	a3 := commit(m, "")
	if got := m.Parents(); len(got) != 2 || got[0] != a2.ID || got[1] != b2.ID {
		t.Fatalf("parents of the merge: %v", got)
	}
	for _, tc := range []struct {
		name       string
		a, b, want *objects.Commit
	}{
		{"diverged", a2, b3, r},
		{"after the merge", a3, b3, b2},
		{"symmetric", b3, a3, b2},
		{"ancestor", a3, a1, a1},
		{"same", b2, b2, b2},
	} {
		got, err := MergeBase(s, tc.a.ID, tc.b.ID)
		if err != nil || got != tc.want.ID {
			t.Errorf("%s: MergeBase = %v, %v; want %v", tc.name, got, err, tc.want.ID)
		}
	}
	if ok, err := IsAncestor(s, b1.ID, a3.ID); err != nil || !ok {
		t.Errorf("b1 is an ancestor of a3 through the merge's second parent: %v %v", ok, err)
	}
	if ok, err := IsAncestor(s, b3.ID, a3.ID); err != nil || ok {
		t.Errorf("b3 is not an ancestor of a3: %v %v", ok, err)
	}
	other := commit(nil, "")
	if _, err := MergeBase(s, other.ID, a3.ID); err != ErrNoMergeBase {
		t.Errorf("unrelated histories: %v, want ErrNoMergeBase", err)
	}
}

// mergeBaseReference is MergeBase as it was before paintDown: every
// ancestor of a, then the walk from b stopping at each one it meets. It
// reads whole histories, and is obviously right.
func mergeBaseReference(s *objects.Store, a, b digest.Digest) (digest.Digest, error) {
	ofA := map[digest.Digest]bool{}
	if err := walkAncestors(s, a, func(d digest.Digest) bool { ofA[d] = true; return true }); err != nil {
		return "", err
	}
	var common []digest.Digest
	if err := walk(s, []digest.Digest{b}, func(d digest.Digest) step {
		if ofA[d] {
			common = append(common, d)
			return prune
		}
		return next
	}); err != nil {
		return "", err
	}
	var best []digest.Digest
	for i, c := range common {
		redundant := false
		for j, o := range common {
			if i != j && o != c && walkFinds(s, o, c) {
				redundant = true
			}
		}
		if !redundant {
			best = append(best, c)
		}
	}
	if len(best) == 0 {
		return "", ErrNoMergeBase
	}
	return bfsOrder(s, a, best)[0], nil
}

// walkFinds reports whether a walk of from's whole history meets anc.
func walkFinds(s *objects.Store, from, anc digest.Digest) bool {
	found := false
	walkAncestors(s, from, func(d digest.Digest) bool { found = d == anc; return !found })
	return found
}

// TestMergeBaseMatchesReference: on random histories with merges, and
// dates in order, all equal (SOURCE_DATE_EPOCH) or skewed against the
// parents, MergeBase gives what reading whole histories gives.
func TestMergeBaseMatchesReference(t *testing.T) {
	for _, dates := range []string{"ordered", "equal", "skewed"} {
		t.Run(dates, func(t *testing.T) {
			s, err := objects.Init(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			rnd := rand.New(rand.NewPCG(1, uint64(len(dates))))
			var commits []*objects.Commit
			for i := range 60 {
				var parent *objects.Commit
				var merge digest.Digest
				if i > 0 && rnd.IntN(8) != 0 { // now and then a new root
					parent = commits[rnd.IntN(len(commits))]
					if rnd.IntN(3) == 0 {
						merge = commits[rnd.IntN(len(commits))].ID
						if merge == parent.ID {
							merge = ""
						}
					}
				}
				date := time.Unix(1000, 0)
				switch dates {
				case "ordered":
					date = time.Unix(int64(1000+i), 0)
				case "skewed":
					date = time.Unix(int64(1000+rnd.IntN(60)), 0)
				}
				c, err := s.WriteCommit(objects.NewCommit{Parent: parent, MergeParent: merge, Date: date,
					Message: fmt.Sprint(i), OS: "linux", Architecture: "amd64"})
				if err != nil {
					t.Fatal(err)
				}
				commits = append(commits, c)
			}
			for range 400 {
				a, b := commits[rnd.IntN(len(commits))].ID, commits[rnd.IntN(len(commits))].ID
				want, werr := mergeBaseReference(s, a, b)
				got, err := MergeBase(s, a, b)
				if got != want || (err == nil) != (werr == nil) {
					t.Fatalf("MergeBase(%.19s, %.19s) = %.19s, %v; reference %.19s, %v", a, b, got, err, want, werr)
				}
				isAnc := walkFinds(s, b, a)
				if ok, err := IsAncestor(s, a, b); ok != isAnc || err != nil {
					t.Fatalf("IsAncestor(%.19s, %.19s) = %v, %v; the walk says %v", a, b, ok, err, isAnc)
				}
			}
		})
	}
}

// BenchmarkMergeBaseDeep: a branch of 5 commits off the tip of a
// 2,000-commit history merges back; MergeBase reads the few commits
// between the tips and their base, against the whole history before.
// With -short (make test runs every benchmark once so), 200 deep.
func BenchmarkMergeBaseDeep(b *testing.B) {
	depth := 2000
	if testing.Short() {
		depth = 200
	}
	s, err := objects.Init(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	var tip *objects.Commit
	commit := func(parent *objects.Commit, i int) *objects.Commit {
		c, err := s.WriteCommit(objects.NewCommit{Parent: parent, Date: time.Unix(int64(i), 0),
			Message: fmt.Sprint(i), OS: "linux", Architecture: "amd64"})
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	for i := range depth {
		tip = commit(tip, i)
	}
	base, side := tip, tip
	for i := range 5 {
		tip, side = commit(tip, 6000+i), commit(side, 7000+i)
	}
	for _, impl := range []struct {
		name string
		f    func(*objects.Store, digest.Digest, digest.Digest) (digest.Digest, error)
	}{{"paintDown", MergeBase}, {"wholeHistory", mergeBaseReference}} {
		b.Run(impl.name, func(b *testing.B) {
			for b.Loop() {
				if got, err := impl.f(s, tip.ID, side.ID); err != nil || got != base.ID {
					b.Fatalf("%v %v", got, err)
				}
			}
		})
	}
}

// TestAncestryAcrossAMissingCommit: in a shallow history the store lacks
// a commit its children name as parent; that commit is still an ancestor
// of them, and their merge base with it, as a walk by name finds.
func TestAncestryAcrossAMissingCommit(t *testing.T) {
	dir := t.TempDir()
	s, err := objects.Init(dir)
	if err != nil {
		t.Fatal(err)
	}
	var c []*objects.Commit
	for i := range 3 {
		var parent *objects.Commit
		if i > 0 {
			parent = c[i-1]
		}
		x, err := s.WriteCommit(objects.NewCommit{Parent: parent, Date: time.Unix(int64(i), 0),
			Message: fmt.Sprint(i), OS: "linux", Architecture: "amd64"})
		if err != nil {
			t.Fatal(err)
		}
		c = append(c, x)
	}
	if err := os.Remove(filepath.Join(dir, "blobs", "sha256", c[0].ID.Encoded())); err != nil {
		t.Fatal(err)
	}
	if ok, err := IsAncestor(s, c[0].ID, c[2].ID); !ok || err != nil {
		t.Errorf("IsAncestor(missing root, tip) = %v, %v; want true", ok, err)
	}
	if got, err := MergeBase(s, c[0].ID, c[2].ID); got != c[0].ID || err != nil {
		t.Errorf("MergeBase(missing root, tip) = %.19s, %v; want the root", got, err)
	}
	if ok, err := IsAncestor(s, c[2].ID, c[0].ID); ok || err != nil {
		t.Errorf("IsAncestor(tip, missing root) = %v, %v; want false", ok, err)
	}
}
