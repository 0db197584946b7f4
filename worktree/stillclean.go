package worktree

// A command that checked the work tree clean before a long step (pull's
// fetch, run --commit's run) and then resets it hard would drop what was
// written meanwhile: it checks again under the lock, with the view
// frozen, before anything moves.

import (
	"context"
	"fmt"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/tree"
)

// CleanAt is what a caller saw before it took the lock: the work tree
// clean, showing Branch (a full ref name) at Commit. By names the move
// in the refusal, in git's words ("merge" for pull's fast-forward).
type CleanAt struct {
	Branch string
	Commit digest.Digest
	By     string
	// Then ends the refusal with what to do next (", then pull again").
	Then string
}

// OverwrittenError: the work tree got uncommitted changes after a
// command checked it clean, and the command's hard reset would drop
// them (git's "Your local changes to the following files would be
// overwritten by merge"). It wraps ErrDirty.
type OverwrittenError struct {
	Changes []tree.Change
	By      string
	Then    string
}

func (e *OverwrittenError) Error() string {
	return fmt.Sprintf("Your local changes to the following files would be overwritten by %s: %s; commit them, or put them aside with 'strata stash'%s", e.By, changeList(e.Changes), e.Then)
}

func (e *OverwrittenError) Unwrap() error { return ErrDirty }

// stillClean refuses, under the lock, a work tree that no longer shows
// at.Branch at at.Commit (ErrNotAt), that has an operation stopped in
// it, uncommitted changes (an OverwrittenError) or a staged config.
func (w *Worktree) stillClean(ctx context.Context, st State, h refs.Head, at CleanAt) error {
	if h.Branch != at.Branch || h.Commit != at.Commit {
		return ErrNotAt
	}
	if s, ok, err := w.Sequence(); err != nil {
		return err
	} else if ok {
		return &InProgressError{Op: s.Op}
	}
	changes, err := w.scanChanges(ctx, st)
	if err != nil {
		return err
	}
	if len(changes) > 0 {
		return &OverwrittenError{Changes: changes, By: at.By, Then: at.Then}
	}
	return w.refuseStaged(st, "")
}
