package worktree

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/snapshot"
	"github.com/strata-sh/strata/tree"
)

// addTar stores a plain tar of files (each holding its own name) as a
// layer, as an import would.
func addTar(t *testing.T, s *objects.Store, files ...string) objects.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		must(t, tw.WriteHeader(&tar.Header{Name: f, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(f))}))
		tw.Write([]byte(f))
	}
	must(t, tw.Close())
	l, err := s.AddLayer(context.Background(), bytes.NewReader(buf.Bytes()),
		ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer}, "")
	must(t, err)
	return l
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	must(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, "/"+rel)
		}
		return nil
	}))
	sort.Strings(out)
	return out
}

// TestRootOpaqueHidesLowers: a layer with ".wh..wh..opq" at its root hides
// every lower entry. overlayfs ignores the mark on a lower's root, so the
// mount drops the lowers below; the tree, diff and blame views agree.
func TestRootOpaqueHidesLowers(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	r := newRepo(t)
	base := filepath.Join(t.TempDir(), "base")
	must(t, os.MkdirAll(filepath.Join(base, "d"), 0o755))
	must(t, os.WriteFile(filepath.Join(base, "a"), []byte("a"), 0o644))
	must(t, os.WriteFile(filepath.Join(base, "d", "x"), []byte("x"), 0o644))
	c1 := commitDir(t, r, base, "base")
	mid := addTar(t, r.Objects, "m")
	opq := addTar(t, r.Objects, ".wh..wh..opq", "b")
	c2 := commitLayers_(t, r, "opaque root", mid, opq)

	w := checkoutMain(t, r, "main")
	if got := names(t, w.Target()); !slices.Equal(got, []string{"/b"}) {
		t.Errorf("checkout shows %v, want only /b", got)
	}
	// Committing on top writes a layer against the same lowers.
	must(t, os.WriteFile(filepath.Join(w.Target(), "c"), []byte("c"), 0o644))
	c3, _, err := w.Commit(ctx, CommitOptions{Message: "c", Author: "T <t@example.com>"})
	must(t, err)

	ts := tree.NewTrees(r.Objects)
	for _, tc := range []struct {
		c    *objects.Commit
		want []string
	}{{c2, []string{"/b"}}, {c3, []string{"/b", "/c"}}} {
		tree, err := ts.Of(tc.c)
		must(t, err)
		var got []string
		for _, p := range tree.Sorted() {
			if p != "/" {
				got = append(got, p)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("tree of %q: %v, want %v", tc.c.Message(), got, tc.want)
		}
	}
	changes, err := tree.DiffRevisions(ts, c1, c2, nil)
	must(t, err)
	if got := changeLines(changes); !slices.Equal(got, []string{"D /a", "A /b", "D /d", "D /d/x"}) {
		t.Errorf("diff base..opaque: %v", got)
	}
	h := tree.NewHistory(r.Objects)
	for p, want := range map[string]bool{"/a": false, "/d/x": false, "/m": false, "/b": true} {
		e, err := h.Lookup(c2.Layers(), p)
		must(t, err)
		if (e != nil) != want {
			t.Errorf("history lookup %s: %v, want present=%v", p, e, want)
		}
	}
	if bc, err := h.BlamePath(c3, "/b"); err != nil || bc.ID != c2.ID {
		t.Errorf("blame /b = %v, %v; want the opaque commit", bc, err)
	}
}

// TestRootOpaqueInFlattenedPrefix: in a chain deep enough to be served by
// a flattened prefix, an opaque root inside the prefix is applied when the
// prefix is built, and the cached tree of the prefix agrees.
func TestRootOpaqueInFlattenedPrefix(t *testing.T) {
	requireRoot(t)
	r := newRepo(t)
	var ls []objects.Layer
	var want []string
	for i := 0; i < snapshot.MaxLowers+2; i++ {
		name := fmt.Sprintf("f%03d", i)
		if i == 10 {
			ls = append(ls, addTar(t, r.Objects, ".wh..wh..opq", name))
		} else {
			ls = append(ls, addTar(t, r.Objects, name))
		}
		if i >= 10 {
			want = append(want, "/"+name)
		}
	}
	if plan := snapshot.PlanSnapshots(ls); !plan[0].Flat || len(plan[0].Layers) <= 10 {
		t.Fatalf("the opaque layer is not in the flattened prefix: %d layers flat", len(plan[0].Layers))
	}
	c := commitLayers_(t, r, "deep", ls...)
	w := checkoutMain(t, r, "main")
	if got := names(t, w.Target()); !slices.Equal(got, want) {
		t.Errorf("checkout shows %d names (%v...), want %d from f010", len(got), got[:min(len(got), 3)], len(want))
	}
	for round := 0; round < 2; round++ { // built, then read from the cache
		tree, err := tree.NewTrees(r.Objects).Of(c)
		must(t, err)
		var got []string
		for _, p := range tree.Sorted() {
			if p != "/" {
				got = append(got, p)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("round %d: tree has %d names (%v...), want %d from f010", round, len(got), got[:min(len(got), 3)], len(want))
		}
	}
}

// TestMediaTypeCheckedOnCheckout: a commit whose layer is labelled gzip
// but holds zstd does not check out, and its tree is not listed.
func TestMediaTypeCheckedOnCheckout(t *testing.T) {
	requireRoot(t)
	r := newRepo(t)
	base := filepath.Join(t.TempDir(), "base")
	must(t, os.MkdirAll(base, 0o755))
	must(t, os.WriteFile(filepath.Join(base, "a"), []byte("a"), 0o644))
	l, err := r.Objects.AddLayerFromDir(context.Background(), base, layer.WriteOptions{})
	must(t, err)
	must(t, r.Objects.RemoveLayerIndex(l.Desc.Digest)) // as a fetch leaves it
	l.Desc.MediaType = ocispec.MediaTypeImageLayerGzip
	c := commitLayers_(t, r, "liar", l)
	w := Main(r)
	unmountAll(t, w.Target())
	if _, err := w.Checkout(context.Background(), CheckoutOptions{Rev: "main"}); !errors.Is(err, layer.ErrMediaType) {
		t.Errorf("checkout of a zstd layer labelled gzip: %v", err)
	}
	if _, err := tree.NewTrees(r.Objects).Of(c); !errors.Is(err, layer.ErrMediaType) {
		t.Errorf("tree of a zstd layer labelled gzip: %v", err)
	}
}
