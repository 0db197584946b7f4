//go:build !strata_front

package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/worktree"
)

// pullAutostashes is whether pull puts uncommitted changes aside and
// back (git's --autostash): the flag given last, else rebase.autoStash
// when a rebase was asked for (--rebase, pull.rebase), else
// merge.autoStash, as git's pull leaves it to its rebase or merge.
func pullAutostashes(r *repo.Repo, on, off, rebasing bool) (bool, error) {
	if on || off {
		return on, nil
	}
	key := "merge.autoStash"
	if rebasing {
		key = "rebase.autoStash"
	}
	v, _, err := r.Config.Bool(key)
	return v, err
}

// autostash is git's autostash of a pull: the work tree's changes saved
// as a stash entry before the merge, rebase or fast-forward, and put
// back after it.
type autostash struct {
	w  *worktree.Worktree
	id digest.Digest // the stash entry made
}

// startAutostash saves w's uncommitted changes, if it is mounted and has
// any, as the stash entry "autostash" and says so as git's: "Created
// autostash: ID" (-q or not). It returns nil when there was nothing to
// save. Unless force, it is refused while something uses the tree.
func startAutostash(ctx context.Context, g *globals, w *worktree.Worktree, force bool) (*autostash, error) {
	if _, mounted, err := w.State(); err != nil || !mounted {
		return nil, err
	}
	c, err := w.Stash(ctx, "autostash", nil, force)
	switch {
	case errors.Is(err, worktree.ErrNoLocalChanges):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("autostash: %w", err)
	}
	fmt.Fprintf(g.stdout, "Created autostash: %s\n", shortID(c.ID))
	return &autostash{w: w, id: c.ID}, nil
}

// finish puts the changes back after the pull, which ended with err, and
// returns the pull's error. As git's: a pull stopped on a conflict (a
// merge or rebase to finish) leaves them in the stash, to pop when it is
// done; otherwise they are applied and the entry dropped ("Applied
// autostash."), and an apply with conflicts leaves them marked and the
// entry kept, saying so, without failing the pull.
func (a *autostash) finish(ctx context.Context, g *globals, err error) error {
	if a == nil {
		return err
	}
	if _, stopped, serr := a.w.Sequence(); serr == nil && stopped {
		fmt.Fprintln(g.stdout, "When finished, apply stashed changes with `strata stash pop`")
		return err
	}
	aerr := a.w.ApplyStash(ctx, a.id, "pop")
	var conflict *worktree.StashConflictError
	switch {
	case errors.As(aerr, &conflict):
		fmt.Fprintln(g.stderr, "Applying autostash resulted in conflicts.\nYour changes are safe in the stash.\nYou can run \"strata stash pop\" or \"strata stash drop\" at any time.")
		return err
	case aerr != nil:
		aerr = fmt.Errorf("autostash: %w; your changes are safe in the stash: 'strata stash pop' puts them back", aerr)
		return alsoFailed(err, aerr)
	}
	if _, derr := a.w.Repo.Refs.DropEntry(refs.Stash, 0, a.id); derr != nil {
		return alsoFailed(err, fmt.Errorf("autostash: applied, but stash@{0} not dropped: %w", derr))
	}
	fmt.Fprintln(g.stderr, "Applied autostash.")
	return err
}

// alsoFailed is err, and then what failed after it, on one line.
func alsoFailed(err, after error) error {
	if err == nil {
		return after
	}
	return fmt.Errorf("%w; %v", err, after)
}
