package tree

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
)

// TestBlameThroughMerge: blame and TREESAME go down the side of a merge
// that changed a path; a merge that matches neither side changed it.
//
//	root (a=1 b=1) - ours (a=2) ------- m (ours + theirs' layer) - fixed (a=3)
//	              \- theirs (b=2, c/x) -/
func TestBlameThroughMerge(t *testing.T) {
	s, err := objects.Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	commit := func(parent *objects.Commit, merge digest.Digest, ls []objects.Layer) *objects.Commit {
		n++
		c, err := s.WriteCommit(objects.NewCommit{Parent: parent, MergeParent: merge, Layers: ls,
			Date: time.Unix(int64(n), 0), Message: "c", OS: "linux", Architecture: "amd64"})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	files := func(kv ...string) []objects.Layer {
		dir := t.TempDir()
		for i := 0; i < len(kv); i += 2 {
			p := filepath.Join(dir, kv[i])
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(kv[i+1]), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		fixed := func(time.Time) time.Time { return time.Unix(1, 0) }
		l, err := s.AddLayerFromDir(context.Background(), dir, layer.WriteOptions{Mtime: fixed})
		if err != nil {
			t.Fatal(err)
		}
		return []objects.Layer{l}
	}
	root := commit(nil, "", files("etc/a", "1", "etc/b", "1"))
	ours := commit(root, "", files("etc/a", "2"))
	theirLayer := files("etc/b", "2", "etc/c/x", "x")
	theirs := commit(root, "", theirLayer)
	m := commit(ours, theirs.ID, theirLayer)
	fixed := commit(m, "", files("etc/a", "3"))
	fixedMerge := commit(ours, theirs.ID, append(append([]objects.Layer{}, theirLayer...), files("etc/a", "4")...))
	h := NewHistory(s)
	for _, tc := range []struct {
		head *objects.Commit
		path string
		want *objects.Commit
	}{
		{m, "/etc/a", ours},
		{m, "/etc/b", theirs},
		{m, "/etc/c/x", theirs},
		{m, "/etc/c", theirs},
		{fixed, "/etc/b", theirs},
		{fixed, "/etc/a", fixed},
		{fixedMerge, "/etc/a", fixedMerge},
		{fixedMerge, "/etc/b", theirs},
	} {
		got, err := h.BlamePath(tc.head, tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != tc.want.ID {
			t.Errorf("blame %s from commit %d: got commit %s, want %s", tc.path, tc.head.Date().Unix(), got.ID, tc.want.ID)
		}
	}
	for _, tc := range []struct {
		paths []string
		want  *objects.Commit
	}{
		{[]string{"/etc/a"}, ours},
		{[]string{"/etc/b"}, theirs},
		{[]string{"/etc/c"}, theirs},
		{[]string{"/etc/motd"}, ours}, // in neither: the same as the first parent
		{[]string{"/etc"}, nil},       // both sides changed below it
		{[]string{"/etc/a", "/etc/b"}, nil},
	} {
		got, err := h.SameParent(m, []*objects.Commit{ours, theirs}, tc.paths)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want && (got == nil || tc.want == nil || got.ID != tc.want.ID) {
			t.Errorf("TREESAME parent of the merge at %v: %v, want %v", tc.paths, got, tc.want)
		}
	}
}
