package worktree

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/strata-sh/strata/refs"
)

// TestSecondWorkTreeHeadNeedsItsBranch: a second work tree's HEAD moves
// to a branch only if the branch is still where the switch found it, as
// the main work tree's (refs.SetHeadBranchAt). A branch -D that ran
// between the switch's lookup and its HEAD write left the work tree on a
// deleted branch.
func TestSecondWorkTreeHeadNeedsItsBranch(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	r := newRepo(t)
	base := filepath.Join(t.TempDir(), "base")
	writeBase(t, base)
	c1 := commitDir(t, r, base, "base")
	must(t, r.Refs.Update(refs.Heads+"b", c1.ID, "", "branch"))
	w, err := ForPath(r, filepath.Join(t.TempDir(), "env2"))
	must(t, err)
	unmountAll(t, w.Target())
	_, err = w.Checkout(ctx, CheckoutOptions{Rev: c1.ID.String()})
	must(t, err)

	// The switch found b at c1; b is deleted before HEAD moves.
	must(t, r.Refs.Delete(refs.Heads+"b", c1.ID, "branch -D"))
	st, _, err := w.State()
	must(t, err)
	if err := w.setHead(&st, refs.Heads+"b", c1.ID, "checkout: to b"); !errors.Is(err, refs.ErrStale) {
		t.Fatalf("HEAD to a deleted branch: %v, want ErrStale", err)
	}
	if h, err := w.Head(); err != nil || h.Branch != "" || h.Commit != c1.ID {
		t.Fatalf("HEAD after the refused move: %+v, %v; want still detached at %s", h, err, c1.ID)
	}

	// With b back where it was, the move goes through.
	must(t, r.Refs.Update(refs.Heads+"b", c1.ID, "", "branch again"))
	must(t, w.setHead(&st, refs.Heads+"b", c1.ID, "checkout: to b"))
	if h, _ := w.Head(); h.Branch != refs.Heads+"b" {
		t.Fatalf("HEAD %+v, want on b", h)
	}
}
