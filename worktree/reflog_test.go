package worktree

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
)

// TestDetachedHeadOfSecondWorkTreeIsReflogged: a commit made on a detached
// HEAD in a second work tree stays in that work tree's HEAD reflog after a
// switch away, so gc keeps it (ReflogCommits are its roots).
func TestDetachedHeadOfSecondWorkTreeIsReflogged(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	r := newRepo(t)
	base := filepath.Join(t.TempDir(), "base")
	writeBase(t, base)
	c1 := commitDir(t, r, base, "base")
	w, err := ForPath(r, filepath.Join(t.TempDir(), "env2"))
	must(t, err)
	unmountAll(t, w.Target())
	_, err = w.Checkout(ctx, CheckoutOptions{Rev: c1.ID.String()})
	must(t, err)
	must(t, write(w.Target()+"/new", "new\n"))
	c2, _, err := w.Commit(ctx, CommitOptions{Message: "detached work"})
	must(t, err)
	_, err = w.Checkout(ctx, CheckoutOptions{Rev: c1.ID.String()})
	must(t, err)
	log, err := r.Refs.Log(w.HeadLog())
	must(t, err)
	// Newest first: the switch away, then the commit.
	if len(log) != 2 || log[1].New != c2.ID || log[1].Message != "commit: detached work" || log[0].New != c1.ID {
		t.Fatalf("reflog of %s: %+v", w.HeadLog(), log)
	}
	roots, err := r.Refs.ReflogCommits()
	must(t, err)
	if !slices.Contains(roots, c2.ID) {
		t.Fatalf("the detached commit is not among the reflog's commits: %v", roots)
	}
}
