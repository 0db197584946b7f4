package worktree

import (
	"context"
	"fmt"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
)

// stoppedStep is the rebase stopped on a step that the work tree shows
// (its new base so far, not HEAD's branch: refs move once, at the end),
// or nil. While it is, "HEAD" to reset and restore is that commit, as
// git's detached HEAD is during a rebase.
func (w *Worktree) stoppedStep(st State) (*Sequence, error) {
	s, ok, err := w.Sequence()
	if err != nil || !ok {
		return nil, err
	}
	if s.Op != OpRebase || !s.Stopped || st.Commit != s.Head {
		return nil, nil
	}
	return s, nil
}

func isHEAD(rev string) bool { return rev == "" || rev == refs.HEAD || rev == "@" }

// resetStep is reset without REV while a rebase is stopped: --hard puts
// the work tree back to the step's base, dropping the resolution and
// the conflicts with it, as git's reset --hard does mid-rebase. The
// branch does not move and the rebase stays stopped: --continue then
// drops the commit (it resolved to nothing), --skip too. A soft reset
// changes nothing, as does --keep once the conflicts are gone (reset
// refuses it before); --merge puts back what the step wrote (planKeep),
// keeping the changes made beside it.
func (w *Worktree) resetStep(ctx context.Context, st State, s *Sequence, mode ResetMode) (*objects.Commit, error) {
	c, err := w.commit(st.Commit)
	if err != nil {
		return nil, err
	}
	switch mode {
	case ResetSoft, ResetKeep:
		return c, nil
	case ResetMerge:
		undo, err := w.stepWrites(ctx, st)
		if err != nil {
			return nil, err
		}
		if err := w.writeKeep(ctx, undo); err != nil {
			return nil, err
		}
		s.Conflicts = nil
		return c, w.saveSeq(s)
	}
	if err := w.prepare(ctx, c); err != nil {
		return nil, fmt.Errorf("reset: %w", err)
	}
	st.Pending, st.PendingKeep = c.ID, false
	if err := w.writeState(st); err != nil {
		return nil, err
	}
	s.Conflicts = nil // the markers and sides are gone; the config's stay
	if err := w.saveSeq(s); err != nil {
		return nil, err
	}
	if _, err := w.switchTo(ctx, st, c, false); err != nil {
		return c, err
	}
	return c, nil
}

// restoreSource is the commit restore takes files from when it is given
// none: HEAD's, or the stopped rebase step's base that the work tree
// shows (what its changes are against).
func (w *Worktree) restoreSource(st State) (*objects.Commit, error) {
	s, err := w.stoppedStep(st)
	if err != nil {
		return nil, err
	}
	if s != nil {
		return w.commit(s.Head)
	}
	return w.Resolve(refs.HEAD)
}

// refuseResetMidStep refuses to move a branch with reset while its
// rebase is stopped: the rebase would go on from where it stopped and
// move the branch back at the end.
func refuseResetMidStep(s *Sequence, rev string) error {
	return fmt.Errorf("reset %s: a rebase is stopped here, on %s; 'strata reset --hard' without REV throws away the stopped step's resolution, and 'strata rebase --abort' or '--quit' ends the rebase first", rev, short(s.Head))
}
