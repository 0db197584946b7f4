package worktree

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/snapshot"
	"github.com/strata-sh/strata/tree"
	"golang.org/x/sys/unix"
)

// repeatedLayers stores layer A (files, a directory) and layer B, which
// changes a file of A, deletes one (a whiteout), makes A's directory
// opaque and adds files. It returns them and the tree [A, B, A] gives
// when replayed in order, as a plain directory.
func repeatedLayers(t *testing.T, r *repo.Repo) (a, b objects.Layer, want string) {
	t.Helper()
	ctx := context.Background()
	da := t.TempDir()
	for _, d := range []string{"etc", "data", "d"} {
		must(t, os.Mkdir(filepath.Join(da, d), 0o755))
	}
	must(t, write(da+"/etc/a", "a\n"))
	must(t, write(da+"/data/x", "x\n"))
	must(t, write(da+"/d/f", "f\n"))
	a, err := r.Objects.AddLayerFromDir(ctx, da, layer.WriteOptions{})
	must(t, err)

	db := t.TempDir()
	for _, d := range []string{"etc", "data", "d"} {
		must(t, os.Mkdir(filepath.Join(db, d), 0o755))
	}
	must(t, write(db+"/etc/a", "b\n"))
	must(t, write(db+"/b", "only in b\n"))
	must(t, unix.Mknod(db+"/data/x", unix.S_IFCHR, 0))
	must(t, unix.Setxattr(db+"/d", "trusted.overlay.opaque", []byte("y"), 0))
	must(t, write(db+"/d/g", "g\n"))
	b, err = r.Objects.AddLayerFromDir(ctx, db, layer.WriteOptions{Overlay: true})
	must(t, err)

	// Replayed: A, then B's changes, then A again over them.
	want = t.TempDir()
	copyTree(t, da, want)
	must(t, os.Remove(want+"/data/x"))
	must(t, os.Remove(want+"/d/f"))
	must(t, write(want+"/etc/a", "b\n"))
	must(t, write(want+"/b", "only in b\n"))
	must(t, write(want+"/d/g", "g\n"))
	copyTree(t, da, want)
	return a, b, want
}

// TestRepeatedLayer: an image may list one layer twice (an empty layer,
// a docker-archive naming one tar twice), and overlayfs refuses the same
// lower twice (ELOOP). The lower occurrence contributes nothing the upper
// one does not shadow, so the mount keeps the topmost; the checkout shows
// what replaying the layers in order gives, and status, the diff against
// the commit and the file map agree with it.
func TestRepeatedLayer(t *testing.T) {
	requireRoot(t)
	r := newRepo(t)
	a, b, want := repeatedLayers(t, r)
	c := commitLayers_(t, r, "a b a", a, b, a)
	w := checkoutMain(t, r, "main")
	compareTrees(t, describe(t, want), describe(t, w.Target()))
	checkViewsAgree(t, r, w, c)
}

// TestRepeatedLayerDeep: the same above and within the flattened prefix
// of a chain deeper than snapshot.MaxLowers.
func TestRepeatedLayerDeep(t *testing.T) {
	requireRoot(t)
	r := newRepo(t)
	a, b, want := repeatedLayers(t, r)
	deep := deepLayers(t, r, snapshot.MaxLowers-1)
	ls := append([]objects.Layer{a, b, a}, deep...)
	// deep[4]'s file is deleted by deep[5]: its repeat brings it back.
	ls = append(ls, a, b, deep[4], a, deep[4])
	if refs := snapshot.PlanSnapshots(ls); !refs[0].Flat || len(refs[0].Layers) < 3 {
		t.Fatalf("no flattened prefix holding [a b a]: %+v", refs[0].ID)
	}
	c := commitLayers_(t, r, "deep a b a", ls...)
	w := checkoutMain(t, r, "main")
	got := describe(t, w.Target())
	for p := range got {
		if p == "/f" || filepath.Dir(p) == "/f" || p == "/counter" {
			delete(got, p)
		}
	}
	compareTrees(t, describe(t, want), got)
	for p, s := range map[string]string{"/f/4": "4", "/counter": "4"} {
		if b, err := os.ReadFile(w.Target() + p); err != nil || string(b) != s {
			t.Errorf("%s = %q, %v; want %q", p, b, err, s)
		}
	}
	checkViewsAgree(t, r, w, c)
	n, diffs, err := snapshot.NewSnapshots(r.Objects).Verify(context.Background(), applyLayer)
	must(t, err)
	if n == 0 || len(diffs) != 0 {
		t.Fatalf("Verify: %d checked, %v", n, diffs)
	}
}

// checkViewsAgree: status is clean, the commit differs from the work
// tree in nothing, and the commit's file map names what the mount shows.
func checkViewsAgree(t *testing.T, r *repo.Repo, w *Worktree, c *objects.Commit) {
	t.Helper()
	ctx := context.Background()
	cs, err := w.Status(ctx)
	must(t, err)
	if len(cs) != 0 {
		t.Errorf("status of a fresh checkout: %q", changeLines(cs))
	}
	d, err := w.Diff(ctx, DiffOptions{Revs: []string{c.ID.String()}, Contents: true})
	must(t, err)
	if len(d.Changes) != 0 {
		t.Errorf("diff of the commit against its checkout: %q", changeLines(d.Changes))
	}
	tr, err := tree.NewTrees(r.Objects).Of(c)
	must(t, err)
	onDisk := describe(t, w.Target())
	for p := range onDisk {
		if tr[p] == nil {
			t.Errorf("%s: in the mount, not in the file map", p)
		}
	}
	for p := range tr {
		if _, ok := onDisk[p]; !ok && p != "/" {
			t.Errorf("%s: in the file map, not in the mount", p)
		}
	}
}
