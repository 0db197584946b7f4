package fold

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/tree"
)

// chain writes depth commits of one small random layer each, as strata
// commit writes them, and returns the store, the top commit and the
// history that made the layers.
func chain(t testing.TB, depth int) (*objects.Store, *objects.Commit, *history) {
	t.Helper()
	store, err := objects.Init(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	h := newHistory(7)
	var c *objects.Commit
	for i := 0; i < depth; i++ {
		l := addLayer(t, store, h)
		if c, err = store.WriteCommit(objects.NewCommit{Parent: c, Layers: []objects.Layer{l},
			Message: fmt.Sprintf("commit %d", i), Date: time.Unix(int64(i), 0)}); err != nil {
			t.Fatal(err)
		}
	}
	return store, c, h
}

func addLayer(t testing.TB, store *objects.Store, h *history) objects.Layer {
	t.Helper()
	b := h.layer(t)
	l, err := store.AddTarLayer(context.Background(), func(w io.Writer) error { _, err := w.Write(b); return err })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestPrepareFoldsPastMaxLayers: the commit that would have 129 layers
// gets 114, the topmost 16 of its parent's folded into one, with one
// history entry in place of theirs; its tree is the unfolded one; its
// parent is untouched.
func TestPrepareFoldsPastMaxLayers(t *testing.T) {
	ctx := context.Background()
	store, parent, h := chain(t, MaxLayers)
	trees := tree.NewTrees(store)
	top := addLayer(t, store, h)
	nc := objects.NewCommit{Parent: parent, Layers: []objects.Layer{top}, Message: "deep"}
	folded, err := Prepare(ctx, store, trees, &nc)
	if err != nil || !folded {
		t.Fatalf("Prepare: folded %v, %v", folded, err)
	}
	c, err := store.WriteCommit(nc)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(c.Layers()); n != MaxLayers-Fanout+2 {
		t.Fatalf("%d layers, want %d", n, MaxLayers-Fanout+2)
	}
	if got := len(c.Config.History); got != MaxLayers-Fanout+2 {
		t.Fatalf("%d history entries, want %d", got, MaxLayers-Fanout+2)
	}
	fold := c.Config.History[len(c.Config.History)-2]
	if fold.CreatedBy != "strata fold 16" || weight(fold) != Fanout || fold.EmptyLayer {
		t.Fatalf("the fold's history entry: %+v", fold)
	}
	if c.Message() != "deep" || c.Parent() != parent.ID {
		t.Fatalf("the commit says %q, parent %s", c.Message(), c.Parent())
	}
	if len(parent.Layers()) != MaxLayers {
		t.Fatal("the parent changed")
	}
	checkUnfoldedTree(t, trees, c, append(parent.Layers(), top))
}

// checkUnfoldedTree fails t unless commit c's tree is the tree of the
// layers it folds.
func checkUnfoldedTree(t *testing.T, trees *tree.Trees, c *objects.Commit, unfolded []objects.Layer) {
	t.Helper()
	want, err := trees.OfLayers(unfolded)
	if err != nil {
		t.Fatal(err)
	}
	got, err := trees.Of(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("the folded tree has %d paths, the unfolded %d", len(got), len(want))
	}
	for p, e := range want {
		if g := got[p]; g == nil || !tree.SameEntry(g, e) || g.Type != e.Type {
			t.Fatalf("%s: folded %+v, unfolded %+v", p, g, e)
		}
	}
}

// TestPrepareLeavesShallowCommits: nothing to do at 128 layers.
func TestPrepareLeavesShallowCommits(t *testing.T) {
	ctx := context.Background()
	store, parent, h := chain(t, MaxLayers-1)
	nc := objects.NewCommit{Parent: parent, Layers: []objects.Layer{addLayer(t, store, h)}}
	if folded, err := Prepare(ctx, store, tree.NewTrees(store), &nc); err != nil || folded || nc.Base != nil {
		t.Fatalf("128 layers: folded %v, %v", folded, err)
	}
}

// TestPrepareFoldsUnpairedHistories: a parent whose history names fewer
// layers than it has (a tool that writes no history), or more, still
// folds: the commit's history is paired first, and pairs with its
// layers after the fold, whose tree is the unfolded one.
func TestPrepareFoldsUnpairedHistories(t *testing.T) {
	ctx := context.Background()
	store, parent, h := chain(t, MaxLayers)
	for name, history := range map[string][]ocispec.History{
		"none":     nil,
		"fewer":    parent.Config.History[5:],
		"more":     append(append([]ocispec.History(nil), parent.Config.History[:3]...), parent.Config.History...),
		"one only": {{CreatedBy: "ADD rootfs.tar /"}},
	} {
		odd := *parent
		odd.Config.History = history
		top := addLayer(t, store, h)
		nc := objects.NewCommit{Parent: &odd, Layers: []objects.Layer{top}}
		folded, err := Prepare(ctx, store, tree.NewTrees(store), &nc)
		if err != nil || !folded {
			t.Fatalf("%s: folded %v, %v", name, folded, err)
		}
		c, err := store.WriteCommit(nc)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := pair(c.Config.History, len(c.Layers())); !ok || len(c.Layers()) > MaxLayers {
			t.Fatalf("%s: %d layers, history %d entries, not paired", name, len(c.Layers()), len(c.Config.History))
		}
		t.Logf("%s: folded", name)
		checkUnfoldedTree(t, tree.NewTrees(store), c, append(parent.Layers(), top))
	}
}

// TestPrepareFoldsAsOftenAsItTakes: a build step of 20 layers on a
// 128-deep parent needs two folds.
func TestPrepareFoldsAsOftenAsItTakes(t *testing.T) {
	store, parent, h := chain(t, MaxLayers)
	var add []objects.Layer
	for i := 0; i < 20; i++ {
		add = append(add, addLayer(t, store, h))
	}
	nc := objects.NewCommit{Parent: parent, Layers: add}
	if _, err := Prepare(context.Background(), store, tree.NewTrees(store), &nc); err != nil {
		t.Fatal(err)
	}
	if n := len(nc.Base) + len(add); n > MaxLayers || len(nc.Base) != MaxLayers-2*(Fanout-1) {
		t.Fatalf("%d layers below the 20 new ones", len(nc.Base))
	}
}

// TestPrepareFoldsRunsThatCancelOut: in a history whose commits add a
// file and delete it in turn, every aligned run of 16 changes nothing,
// so every fold is the same empty layer. The chain may repeat it (the
// mount keeps a layer's topmost occurrence): committing goes on.
func TestPrepareFoldsRunsThatCancelOut(t *testing.T) {
	ctx := context.Background()
	store, err := objects.Init(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	trees := tree.NewTrees(store)
	add := tarLayer(t, store, &tar.Header{Name: "t", Typeflag: tar.TypeReg, Mode: 0o644, Size: 2, ModTime: time.Unix(1, 0)}, "t\n")
	del := tarLayer(t, store, &tar.Header{Name: ".wh.t", Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}, "")
	base := tarLayer(t, store, &tar.Header{Name: "b", Typeflag: tar.TypeReg, Mode: 0o644, Size: 2, ModTime: time.Unix(1, 0)}, "b\n")
	c, err := store.WriteCommit(objects.NewCommit{Layers: []objects.Layer{base}, Message: "base"})
	if err != nil {
		t.Fatal(err)
	}
	unfolded := []objects.Layer{base}
	for i := 1; i <= MaxLayers+3*Fanout; i++ {
		l := add
		if i%2 == 1 {
			l = del
		}
		if i == 1 {
			l = add // the base's tree lacks t: the first commit adds it
		}
		unfolded = append(unfolded, l)
		nc := objects.NewCommit{Parent: c, Layers: []objects.Layer{l}, Message: fmt.Sprint(i)}
		if _, err := Prepare(ctx, store, trees, &nc); err != nil {
			t.Fatalf("commit %d: %v", i, err)
		}
		if c, err = store.WriteCommit(nc); err != nil {
			t.Fatal(err)
		}
		if n := len(c.Layers()); n > MaxLayers {
			t.Fatalf("commit %d: %d layers", i, n)
		}
	}
	got, err := trees.Of(c)
	if err != nil {
		t.Fatal(err)
	}
	want, err := trees.OfLayers(unfolded)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || got["/b"] == nil || (got["/t"] == nil) != (want["/t"] == nil) {
		t.Fatalf("the tree at the top: %v, unfolded %v", got, want)
	}
}

func tarLayer(t *testing.T, store *objects.Store, hdr *tar.Header, body string) objects.Layer {
	t.Helper()
	l, err := store.AddTarLayer(context.Background(), func(w io.Writer) error {
		tw := tar.NewWriter(w)
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := io.WriteString(tw, body); err != nil {
			return err
		}
		return tw.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
	return l
}
