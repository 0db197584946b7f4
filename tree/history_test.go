package tree

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
)

// A commit whose layers are not its parent's with more on top (a
// registry's, or a history whose older layers were squashed into one) is
// compared with its parent by tree: reading only the layers past the
// parent's count named /b unchanged, where it changed.
func TestChangedWhenLayersDoNotExtendTheParent(t *testing.T) {
	s, err := objects.Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	files := func(kv ...string) objects.Layer {
		dir := t.TempDir()
		for i := 0; i < len(kv); i += 2 {
			if err := os.WriteFile(filepath.Join(dir, kv[i]), []byte(kv[i+1]), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		l, err := s.AddLayerFromDir(context.Background(), dir, layer.WriteOptions{Mtime: func(time.Time) time.Time { return time.Unix(1, 0) }})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	write := func(nc objects.NewCommit) *objects.Commit {
		nc.Date, nc.Message, nc.OS, nc.Architecture = time.Unix(1, 0), "c", "linux", "amd64"
		c, err := s.WriteCommit(nc)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	root := write(objects.NewCommit{Layers: []objects.Layer{files("a", "1")}})
	parent := write(objects.NewCommit{Parent: root, Layers: []objects.Layer{files("b", "1")}})
	// Three layers of its own, the first a squash of a=1 and b=2.
	child := write(objects.NewCommit{Layers: []objects.Layer{files("a", "1", "b", "2"), files("c", "1"), files("d", "1")},
		Annotations: map[string]string{objects.AnnotationParent: parent.ID.String()}})
	// One layer squashing its parent's two, the same files.
	squash := write(objects.NewCommit{Layers: []objects.Layer{files("a", "1", "b", "1")},
		Annotations: map[string]string{objects.AnnotationParent: parent.ID.String()}})
	h := NewHistory(s)
	for _, path := range []string{"/a", "/b", "/"} {
		if got, err := h.Changed(squash, parent, path); err != nil || got {
			t.Errorf("squashed: Changed(%s) = %v, %v; want false", path, got, err)
		}
	}
	for path, want := range map[string]bool{"/a": false, "/b": true, "/c": true, "/d": true, "/e": false} {
		got, err := h.Changed(child, parent, path)
		if err != nil || got != want {
			t.Errorf("Changed(%s) = %v, %v; want %v", path, got, err, want)
		}
		got, err = h.Touches(child, []string{path})
		if err != nil || got != want {
			t.Errorf("Touches(%s) = %v, %v; want %v", path, got, err, want)
		}
	}
}
