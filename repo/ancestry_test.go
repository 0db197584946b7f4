package repo

import (
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
