package tree

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
)

// bufferCloser is a bytes.Buffer that closes.
type bufferCloser struct{ bytes.Buffer }

func (*bufferCloser) Close() error { return nil }

// TestCopyFilesEachFromItsLayer: every file of a tree of two layers,
// more than an index read buffer holds, reaches the writer of its own
// path, once, with the content of the layer that last wrote it (the
// index decoder reuses its entry from line to line: a path kept from it
// has to be copied).
func TestCopyFilesEachFromItsLayer(t *testing.T) {
	s, err := objects.Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	addLayer := func(files map[string]string) objects.Layer {
		dir := t.TempDir()
		for name, content := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		l, err := s.AddLayerFromDir(context.Background(), dir, layer.WriteOptions{Mtime: func(time.Time) time.Time { return time.Unix(1, 0) }})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	base, top := map[string]string{}, map[string]string{}
	for i := 0; i < 3000; i++ {
		base[fmt.Sprintf("file-with-a-long-name-%04d", i)] = fmt.Sprintf("base %d\n", i)
	}
	for i := 0; i < 3000; i += 7 {
		top[fmt.Sprintf("file-with-a-long-name-%04d", i)] = fmt.Sprintf("top %d\n", i)
	}
	c, err := s.WriteCommit(objects.NewCommit{Layers: []objects.Layer{addLayer(base), addLayer(top)},
		Date: time.Unix(1, 0), Message: "c", OS: "linux", Architecture: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrees(s).Subset(c, func(string) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*bufferCloser{}
	err = NewHistory(s).CopyFiles(c.Layers(), tr, t.TempDir(), func(p string) io.WriteCloser {
		if got[p] != nil {
			t.Errorf("%s opened twice", p)
		}
		got[p] = &bufferCloser{}
		return got[p]
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(base) {
		t.Errorf("%d files written, want %d", len(got), len(base))
	}
	for name, content := range base {
		if c, ok := top[name]; ok {
			content = c
		}
		if b := got["/"+name]; b == nil || b.String() != content {
			t.Errorf("/%s: got %v, want %q", name, b, content)
			break
		}
	}
}
