package worktree

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"syscall"
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

// An extra work tree's HEAD reflog planted as a symbolic link to a file
// is not appended to: before, 'strata -C wt2 checkout --detach HEAD~1'
// wrote its reflog line at the end of the file the link led to.
func TestHeadLogPlantedLink(t *testing.T) {
	r := newRepo(t)
	w := &Worktree{Repo: r, Name: "wt2"}
	victim := filepath.Join(t.TempDir(), "victim")
	must(t, write(victim, "host file\n"))
	p := filepath.Join(r.Root, "logs", filepath.FromSlash(w.HeadLog()))
	must(t, os.MkdirAll(filepath.Dir(p), 0o755))
	must(t, os.Symlink(victim, p))
	if err := w.appendHeadLog(digestOf("a"), digestOf("b"), "checkout: moving"); !errors.Is(err, syscall.ELOOP) {
		t.Errorf("appendHeadLog through a link: %v, want ELOOP", err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "host file\n" {
		t.Errorf("victim = %q", b)
	}
}
