package worktree

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/snapshot"
	"github.com/strata-sh/strata/tree"
	"golang.org/x/sys/unix"
)

// deepLayers writes n small layers straight through the store: layer i
// adds /f/i and rewrites /counter; every tenth deletes the file of the
// layer before it (a whiteout), so flattening must apply deletions.
func deepLayers(t testing.TB, r *repo.Repo, n int) []objects.Layer {
	t.Helper()
	var out []objects.Layer
	for i := 0; i < n; i++ {
		dir := t.TempDir()
		must(t, os.Mkdir(dir+"/f", 0o755))
		must(t, write(fmt.Sprintf("%s/f/%d", dir, i), fmt.Sprint(i)))
		must(t, write(dir+"/counter", fmt.Sprint(i)))
		if i%10 == 5 {
			must(t, unix.Mknod(fmt.Sprintf("%s/f/%d", dir, i-1), unix.S_IFCHR, 0))
		}
		info, err := r.Objects.AddLayerFromDir(context.Background(), dir, layer.WriteOptions{Overlay: true})
		must(t, err)
		out = append(out, info)
	}
	return out
}

// applyLayer is fsck's rule for a flattened snapshot's layers.
func applyLayer(t map[string]*layer.Entry, e []layer.Entry) { tree.Tree(t).Apply(e) }

// TestDeepHistory checks out a commit of 1,000 layers: more than overlay
// takes as lowers.
func TestDeepHistory(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	r := newRepo(t)
	ls := deepLayers(t, r, 1000)
	c := commitLayers_(t, r, "deep", ls...)
	w := checkoutMain(t, r, "main")
	b, err := os.ReadFile(w.Target() + "/counter")
	must(t, err)
	if string(b) != "999" {
		t.Errorf("counter = %q, want 999", b)
	}
	for _, i := range []int{0, 3, 4, 14, 500, 954, 955, 999} {
		_, err := os.Stat(fmt.Sprintf("%s/f/%d", w.Target(), i))
		if deleted := i%10 == 4; deleted != os.IsNotExist(err) {
			t.Errorf("/f/%d: deleted=%v, stat: %v", i, deleted, err)
		}
	}
	// The tree from the file indexes matches the mount.
	tree, err := tree.NewTrees(r.Objects).Of(c)
	must(t, err)
	var onDisk []string
	filepath.Walk(w.Target(), func(p string, fi os.FileInfo, err error) error {
		if rel := strings.TrimPrefix(p, w.Target()); rel != "" {
			onDisk = append(onDisk, rel)
		}
		return nil
	})
	if len(onDisk) != len(tree) {
		t.Errorf("mount has %d paths, tree %d", len(onDisk), len(tree))
	}
	for _, p := range onDisk {
		if tree[p] == nil {
			t.Errorf("%s: in the mount, not in the tree", p)
		}
	}
	cs, err := w.Status(ctx)
	must(t, err)
	if len(cs) != 0 {
		t.Errorf("status of a fresh deep checkout: %q", changeLines(cs))
	}
	// Commit on top: the flattened snapshot is reused.
	must(t, write(w.Target()+"/counter", "1000"))
	before, _ := filepath.Glob(filepath.Join(r.Root, "snapshots", "chain-*"))
	_, _, err = w.Commit(ctx, CommitOptions{Message: "one more"})
	must(t, err)
	after, _ := filepath.Glob(filepath.Join(r.Root, "snapshots", "chain-*"))
	if len(before) != 1 || len(after) != 1 {
		t.Fatalf("flattened snapshots before/after a commit: %v, %v", before, after)
	}

	// fsck's check of the cache: the flattened snapshot holds its layers
	// applied (deletions included), and a change to it is found.
	snaps := snapshot.NewSnapshots(r.Objects)
	n, diffs, err := snaps.Verify(ctx, applyLayer)
	must(t, err)
	if n < 2 || len(diffs) != 0 {
		t.Fatalf("Verify of a fresh deep checkout: %d checked, %v", n, diffs)
	}
	must(t, os.Remove(filepath.Join(after[0], "fs/f/0")))
	must(t, os.WriteFile(filepath.Join(after[0], "fs/f/4"), []byte("back"), 0o644))
	_, diffs, err = snaps.Verify(ctx, applyLayer)
	must(t, err)
	var got []string
	for _, d := range diffs {
		if d.ID == filepath.Base(after[0]) {
			got = append(got, strings.TrimPrefix(d.Path+": ", ": ")+d.What)
		}
	}
	if len(got) != 4 || !strings.HasPrefix(got[0], "/f: mtime ") ||
		got[1] != "/f/4: not in the layer" || got[2] != "/f/0: missing, the layer has it" {
		t.Fatalf("Verify of a changed flattened snapshot: %q", got)
	}
}
