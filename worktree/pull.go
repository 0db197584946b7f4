package worktree

import (
	"context"
	"fmt"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/tree"
	"github.com/strata-sh/strata/tree/changeset"
)

// BranchUpdate moves a branch forward, and the work tree the command
// runs in with it when that work tree shows the branch (pull).
type BranchUpdate struct {
	r      *repo.Repo
	branch string
	w      *Worktree     // the work tree pull runs in, when it shows branch and is mounted
	dirty  []tree.Change // w's uncommitted changes, which a fast-forward keeps
	force  bool          // w is moved even while a container or process uses it
}

// PrepareBranchUpdate refuses, before anything moves (before a fetch), a
// branch that another work tree than w (the one pull runs in) shows,
// whose files would no longer be its HEAD's (git's fetch refuses it
// too), and a w that shows branch with an operation in progress, or with
// a container running in it unless force. Uncommitted changes in w are
// refused there too unless keep: then, as git's pull without --rebase,
// a fast-forward keeps the ones it does not overwrite and refuses the
// others, after the fetch (FastForward), and a merge refuses them all
// (strata merges into a clean work tree only).
func PrepareBranchUpdate(ctx context.Context, w *Worktree, branch string, force, keep bool) (*BranchUpdate, error) {
	r := w.Repo
	h, err := w.Head()
	if err != nil {
		return nil, err
	}
	u := &BranchUpdate{r: r, branch: branch, force: force}
	if h.Branch != refs.Heads+branch {
		other, err := CheckedOutIn(r, refs.Heads+branch, w)
		if err != nil {
			return nil, err
		}
		if other != nil {
			return nil, fmt.Errorf("refusing to pull into branch '%s' checked out at '%s': pull there", refs.Heads+branch, other.Target())
		}
		return u, nil
	}
	_, mounted, err := w.State()
	if err != nil {
		return nil, err
	}
	if !mounted {
		return u, nil
	}
	if !force {
		if err := w.RefuseWhileRunning(); err != nil {
			return nil, err
		}
	}
	// Checked before the changes: a stopped merge's are its own, and a
	// commit would conclude it.
	if s, ok, err := w.Sequence(); err != nil {
		return nil, err
	} else if ok {
		return nil, &InProgressError{Op: s.Op}
	}
	changes, err := w.Status(ctx)
	if err != nil {
		return nil, err
	}
	if len(changes) > 0 && keep {
		u.w, u.dirty = w, changes
		return u, nil
	}
	if len(changes) > 0 {
		what := fmt.Sprintf("%d uncommitted changes", len(changes))
		if len(changes) == 1 {
			return nil, fmt.Errorf("1 uncommitted change in %s: commit it first", w.Target())
		}
		return nil, fmt.Errorf("%s in %s: commit them first", what, w.Target())
	}
	if st, _, err := w.State(); err != nil {
		return nil, err
	} else if err := w.refuseStaged(st, "a pull"); err != nil {
		return nil, err
	}
	u.w = w
	return u, nil
}

// FastForward moves the branch, and the work tree if it follows, to
// commit to, which must descend from the branch's commit (a missing
// branch is created). It returns where the branch was: "" if new, to if
// nothing moved (to is the branch's commit or one of its ancestors: the
// branch is ahead, as git's "Already up to date.").
func (u *BranchUpdate) FastForward(ctx context.Context, to digest.Digest, msg string) (digest.Digest, error) {
	old, _ := u.r.Refs.Read(refs.Heads + u.branch)
	if old == to {
		return old, nil
	}
	if old != "" {
		ff, err := repo.IsAncestor(u.r.Objects, old, to)
		if err != nil {
			return old, err
		}
		if !ff {
			ahead, err := repo.IsAncestor(u.r.Objects, to, old)
			if err != nil {
				return old, err
			}
			if ahead {
				return to, nil
			}
			return old, fmt.Errorf("need to specify how to reconcile divergent branches (the branch and the remote have diverged: %w): pull with --rebase or --merge (or set pull.rebase to true or false)", repo.ErrNonFastForward)
		}
	}
	if u.w != nil && len(u.dirty) > 0 {
		if err := u.refuseOverwrite(old, to); err != nil {
			return old, err
		}
		_, err := u.w.ResetWith(ctx, ResetOptions{Rev: to.String(), Mode: ResetKeep, Force: u.force})
		return old, err
	}
	if u.w != nil {
		// What was written during the fetch is not dropped.
		clean := &CleanAt{Branch: refs.Heads + u.branch, Commit: old, By: "merge", Then: ", then pull again"}
		_, err := u.w.ResetWith(ctx, ResetOptions{Rev: to.String(), Mode: ResetHard, Force: u.force, Clean: clean})
		return old, err
	}
	_, err := u.r.FastForward(u.branch, to, msg)
	return old, err
}

// refuseOverwrite is git's refusal of a fast-forward from old to to
// over uncommitted changes at paths it updates ("Your local changes to
// the following files would be overwritten by merge"), in reset
// --keep's terms (keepClashes), which then carries the others.
func (u *BranchUpdate) refuseOverwrite(old, to digest.Digest) error {
	from, err := u.w.commit(old)
	if err != nil {
		return err
	}
	c, err := u.w.commit(to)
	if err != nil {
		return err
	}
	told, tnew, err := u.w.treesOf(from, c)
	if err != nil {
		return err
	}
	differ := changeset.New(told, tnew, nil).Paths
	if clash := keepClashes(u.dirty, differ, told, tnew); len(clash) > 0 {
		return fmt.Errorf("%w would be overwritten by the fast-forward: %s; commit them, or put them aside with 'strata stash', then pull again", ErrDirty, changeList(clash))
	}
	return nil
}
