package worktree

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/snapshot"
)

// TestCommitFromEmpty: an unborn branch checks out as an empty tree and
// its first commit is a root commit.
func TestCommitFromEmpty(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	r := newRepo(t)
	w := checkoutMain(t, r, "main")
	must(t, os.MkdirAll(w.Target()+"/etc", 0o755))
	must(t, write(w.Target()+"/etc/hello", "hi\n"))
	c, _, err := w.Commit(ctx, CommitOptions{Message: "first"})
	must(t, err)
	if c.Parent() != "" || len(c.Layers()) != 1 {
		t.Fatalf("first commit: parent %q, %d layers", c.Parent(), len(c.Layers()))
	}
	h, err := r.Refs.ReadHead()
	must(t, err)
	if h.Branch != "refs/heads/main" || h.Commit != c.ID {
		t.Errorf("HEAD after the first commit: %+v", h)
	}
	if _, _, err := w.Commit(ctx, CommitOptions{Message: "again"}); err != ErrNothingToCommit {
		t.Errorf("second commit without changes: %v", err)
	}
}

// TestPruneSnapshots: gc drops snapshots of removed layers but keeps
// those a work tree is mounted on.
func TestPruneSnapshots(t *testing.T) {
	r, c, w := checkedOutBase(t)
	_ = w
	s := snapshot.NewSnapshots(r.Objects)
	// A snapshot of a layer that gc has removed.
	other := filepath.Join(t.TempDir(), "other")
	must(t, os.MkdirAll(other+"/x", 0o755))
	lone := commitDir(t, r, other, "other")
	_, err := s.Lowers(context.Background(), lone.Layers())
	must(t, err)
	if n, _ := os.ReadDir(filepath.Join(r.Objects.Root(), "snapshots")); len(n) != 2 {
		t.Fatalf("snapshots before gc: %d", len(n))
	}
	must(t, PruneCaches(r, map[digest.Digest]bool{}))
	for _, l := range c.Layers() {
		if _, err := os.Stat(s.Path(l.DiffID.Encoded())); err != nil {
			t.Errorf("snapshot of the mounted commit removed: %v", err)
		}
	}
	top := lone.Layers()
	if _, err := os.Stat(s.Path(top[len(top)-1].DiffID.Encoded())); !os.IsNotExist(err) {
		t.Errorf("snapshot of a removed layer kept: %v", err)
	}
}

// TestGCKeepsWorktreeCommits: a detached second work tree may stand on a
// commit no ref or reflog names; gc must keep it and its blobs.
func TestGCKeepsWorktreeCommits(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	r := newRepo(t)
	base := filepath.Join(t.TempDir(), "base")
	writeBase(t, base)
	info, err := r.Objects.AddLayerFromDir(ctx, base, layer.WriteOptions{})
	must(t, err)
	lone, err := r.Objects.WriteCommit(objects.NewCommit{Layers: []objects.Layer{{Desc: info.Desc, DiffID: info.DiffID}},
		Author: "T <t@example.com>", Date: time.Unix(1700000000, 0), Message: "unnamed", OS: "linux", Architecture: "amd64"})
	must(t, err)
	target := filepath.Join(t.TempDir(), "wt")
	must(t, os.Mkdir(target, 0o755))
	w, err := ForPath(r, target)
	must(t, err)
	unmountAll(t, target)
	_, err = w.Checkout(ctx, CheckoutOptions{Rev: lone.ID.String(), Detach: true})
	must(t, err)

	if _, err := r.GC(GCOptions(repo.GCOptions{})); err != nil {
		t.Fatal(err)
	}
	for _, d := range []digest.Digest{lone.ID, lone.Manifest.Config.Digest, info.Desc.Digest} {
		if !r.Objects.Has(d) {
			t.Errorf("gc removed %s, which a work tree stands on", d)
		}
	}
	// Once the work tree is removed (its HEAD reflog with it), so is the commit.
	must(t, w.Remove(ctx, 1))
	if _, err := r.GC(GCOptions(repo.GCOptions{})); err != nil {
		t.Fatal(err)
	}
	if r.Objects.Has(lone.ID) {
		t.Error("gc kept a commit nothing names any more")
	}
}
