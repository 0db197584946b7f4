package worktree

// reset, as git's: moves the branch and, by mode, the work tree.

import (
	"context"
	"errors"
	"fmt"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/tree/changeset"
)

// ResetMode says what reset does to the work tree.
type ResetMode int

const (
	// ResetHard mounts the revision with an empty upper: uncommitted
	// changes are dropped (excluded paths are kept).
	ResetHard ResetMode = iota
	// ResetSoft keeps the upper and mounts it over the revision: the
	// uncommitted changes now apply to that revision's files.
	ResetSoft
	// ResetKeep moves the work tree to the revision keeping its
	// uncommitted changes, and refuses, changing nothing, when a path
	// that differs between HEAD and the revision has some (planKeep).
	ResetKeep
	// ResetMerge is ResetKeep that first drops what a stopped merge,
	// cherry-pick, revert or rebase step wrote (git's reset --merge).
	ResetMerge
)

// ResetOptions says what ResetWith does.
type ResetOptions struct {
	Rev  string
	Mode ResetMode
	// Force remounts even while a process or container uses the work
	// tree: it keeps the old mount, and the old upper is kept for it.
	// Without it, such a use refuses the reset before anything moves.
	Force bool
	// Clean, for a hard reset after a step the caller took outside the
	// lock (pull's fetch): see stillClean.
	Clean *CleanAt
}

// Reset is ResetWith forced, for a caller that refused the work tree's
// users itself or means them to keep the old mount.
func (w *Worktree) Reset(ctx context.Context, rev string, mode ResetMode) (*objects.Commit, error) {
	return w.ResetWith(ctx, ResetOptions{Rev: rev, Mode: mode, Force: true})
}

// ResetWith moves the work tree's HEAD (its branch, if any) to o.Rev
// and remounts the work tree on it. It ends a merge, cherry-pick or
// revert in progress, as git's reset does (as --quit: its commits are
// left to gc), since a later commit would conclude it with other files;
// a rebase stays.
func (w *Worktree) ResetWith(ctx context.Context, o ResetOptions) (*objects.Commit, error) {
	var check func(State, refs.Head) error
	if o.Clean != nil {
		check = func(st State, h refs.Head) error { return w.stillClean(ctx, st, h, *o.Clean) }
	}
	return w.reset(ctx, o.Rev, o.Mode, o.Force, check)
}

// ErrNotAt: the work tree no longer shows what a caller saw earlier.
var ErrNotAt = errors.New("the work tree no longer shows the branch at the commit seen")

// ResetClean is a hard reset for a caller that checked the work tree
// earlier (build -t, before its build): under the work tree's lock, the
// one the reset takes, it refuses a work tree in use (ErrInUse), one
// that no longer shows branch at old (ErrNotAt) or that now has
// uncommitted changes (a DirtyError), which the reset would drop. The
// view is read-only from before that check until the reset is done.
func (w *Worktree) ResetClean(ctx context.Context, rev, branch string, old digest.Digest) (*objects.Commit, error) {
	return w.reset(ctx, rev, ResetHard, false, func(st State, h refs.Head) error {
		if h.Branch != branch || h.Commit != old {
			return ErrNotAt
		}
		return w.refuseChanges(ctx, st)
	})
}

func (w *Worktree) reset(ctx context.Context, rev string, mode ResetMode, force bool, check func(State, refs.Head) error) (*objects.Commit, error) {
	unlock, err := w.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	st, err := w.ensure(ctx)
	if err != nil {
		return nil, err
	}
	thaw, err := w.guardReset(mode, force)
	if err != nil {
		return nil, fmt.Errorf("reset: %w", err)
	}
	defer thaw()
	if mode == ResetKeep {
		if err := refuseKeepMidStep(w); err != nil {
			return nil, err
		}
	}
	if s, err := w.stoppedStep(st); err != nil {
		return nil, err
	} else if s != nil && check == nil {
		if !isHEAD(rev) {
			return nil, refuseResetMidStep(s, rev)
		}
		return w.resetStep(ctx, st, s, mode)
	}
	c, err := w.Resolve(rev)
	if err != nil {
		return nil, fmt.Errorf("reset: %w", err)
	}
	h, err := w.Head()
	if err != nil {
		return nil, err
	}
	if check != nil {
		if err := check(st, h); err != nil {
			return nil, err
		}
	}
	var undo *changeset.Set
	if mode == ResetKeep || mode == ResetMerge {
		if undo, err = w.planKeep(ctx, st, h, c, mode); err != nil {
			return nil, err
		}
	}
	// Recorded with the pending switch below; --keep may refuse here.
	if err := w.stageResetConfig(&st, c, mode); err != nil {
		return nil, err
	}
	if err := w.prepare(ctx, c); err != nil {
		return nil, fmt.Errorf("reset: %w", err)
	}
	// Killed after this, the step's files are HEAD's again and it is
	// still stopped: another reset --merge writes them again, the same.
	if err := w.writeKeep(ctx, undo); err != nil {
		return nil, err
	}
	if err := w.endStoppedOp("reset"); err != nil {
		return nil, err
	}
	st.Pending, st.PendingKeep = c.ID, mode != ResetHard
	if mode == ResetKeep || mode == ResetMerge {
		st.KeepFrom = h.Commit
	}
	if err := w.writeState(st); err != nil {
		return nil, err
	}
	testHook("reset-before-ref")
	if err := w.setOrigHead(h.Commit); err != nil {
		return nil, fmt.Errorf("reset: %w", err)
	}
	old := h.Commit
	if old == "" {
		old = refs.Any
	}
	moveErr := w.moveHead(&st, c.ID, old, "reset: moving to "+rev)
	if moveErr != nil && !errors.Is(moveErr, refs.ErrMoved) {
		st.unstagePending()
		st.Pending, st.KeepFrom = "", ""
		w.writeState(st)
		return nil, fmt.Errorf("reset: %w", moveErr)
	}
	testHook("reset-after-ref")
	// With refs.ErrMoved HEAD did move: finish the switch, then report it.
	if st, err = w.switchTo(ctx, st, c, mode != ResetHard); err != nil {
		return c, err
	}
	// --keep, --merge: the tree shows the old HEAD's files, as after a
	// soft reset; REV's go where they differ.
	if err := w.finishKeep(ctx, &st); err != nil {
		return c, err
	}
	if mode == ResetHard && st.StagedConfig != nil {
		// On the same commit: nothing else drops it.
		st.StagedConfig, st.StagedOn = nil, ""
		if err := w.writeState(st); err != nil {
			return c, err
		}
	}
	if moveErr != nil {
		return c, fmt.Errorf("reset: %w", moveErr)
	}
	return c, nil
}

// guardReset refuses a reset while anything uses the work tree, unless
// force, before anything moves. --hard drops the upper: the view is
// frozen from then on (guardSwap), so that a write made meanwhile fails
// rather than go with it. The other modes mount the same upper again,
// and --keep and --merge write through the view: not frozen.
func (w *Worktree) guardReset(mode ResetMode, force bool) (thaw func(), err error) {
	if mode == ResetHard {
		return w.guardSwap(force)
	}
	if !force {
		if err := w.RefuseWhileRunning(); err != nil {
			return nil, err
		}
	}
	return func() {}, nil
}
