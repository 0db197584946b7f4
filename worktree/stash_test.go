package worktree

import (
	"slices"
	"testing"

	"github.com/strata-sh/strata/tree"
)

// TestOverlapping: a work-tree change clashes with a path a stash writes,
// with one below it, and with one above it; not with a neighbour whose
// name only starts the same.
func TestOverlapping(t *testing.T) {
	paths := []string{"/a-b", "/a.c", "/a/b/c", "/etc/motd", "/x"}
	for _, tc := range []struct {
		change string
		clash  bool
	}{
		{"/etc/motd", true}, // the same path
		{"/etc", true},      // above one
		{"/a", true},        // above /a/b/c, past /a-b and /a.c
		{"/a/b/c/d", true},  // below one
		{"/x/y", true},
		{"/etc/issue", false},
		{"/a-", false},
		{"/a/b2", false},
		{"/y", false},
	} {
		got := overlapping([]tree.Change{{Kind: tree.Modified, Path: tc.change}}, paths)
		if (len(got) > 0) != tc.clash {
			t.Errorf("%s: clash %v, want %v", tc.change, len(got) > 0, tc.clash)
		}
	}
	if !slices.IsSorted(paths) {
		t.Fatal("paths must be sorted, as changeSet keeps them")
	}
}
