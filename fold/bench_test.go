package fold

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/tree"
)

// BenchmarkPrepareOnABigTree: the fold a commit 129 deep pays, on a
// base of 100,000 files under 1,000 directories with 128 commits of a
// few files each above it.
func BenchmarkPrepareOnABigTree(b *testing.B) {
	ctx := context.Background()
	store, err := objects.Init(filepath.Join(b.TempDir(), "store"))
	if err != nil {
		b.Fatal(err)
	}
	mtime := time.Unix(1_700_000_000, 0)
	base, err := store.AddTarLayer(ctx, func(w io.Writer) error {
		tw := tar.NewWriter(w)
		for d := 0; d < 1000; d++ {
			tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("d%d/", d), Typeflag: tar.TypeDir, Mode: 0o755, ModTime: mtime})
			for f := 0; f < 100; f++ {
				tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("d%d/f%d", d, f), Typeflag: tar.TypeReg, Mode: 0o644, ModTime: mtime})
			}
		}
		return tw.Close()
	})
	if err != nil {
		b.Fatal(err)
	}
	c, err := store.WriteCommit(objects.NewCommit{Layers: []objects.Layer{base}, Message: "base"})
	if err != nil {
		b.Fatal(err)
	}
	h := newHistory(3)
	for i := 1; i < MaxLayers; i++ {
		l := addLayer(b, store, h)
		if c, err = store.WriteCommit(objects.NewCommit{Parent: c, Layers: []objects.Layer{l}, Message: "c"}); err != nil {
			b.Fatal(err)
		}
	}
	top := addLayer(b, store, h)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		nc := objects.NewCommit{Parent: c, Layers: []objects.Layer{top}}
		if folded, err := Prepare(ctx, store, tree.NewTrees(store), &nc); err != nil || !folded {
			b.Fatal(folded, err)
		}
	}
}
