package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/internal/stagedir"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/worktree"
)

// throwawayWorktree checks rev out, detached, on an overlay of its own
// under .strata/tmp, removed after the run.
// Its directory is locked until unlock, which the caller calls once it
// removed the work tree: gc removes at once what a killed run left, and
// never a live run's (sweepRuns, stagedir).
func throwawayWorktree(ctx context.Context, r *repo.Repo, rev string) (_ *worktree.Worktree, _ *objects.Commit, unlock func(), err error) {
	tmp, unlock, err := stagedir.Make(r.Objects.TempDir(), stagedir.Run)
	if err != nil {
		return nil, nil, nil, err
	}
	// The work tree takes its name from its directory: run-<random>.
	target := filepath.Join(tmp, filepath.Base(tmp))
	if err := os.Mkdir(target, 0o755); err != nil {
		os.RemoveAll(tmp)
		unlock()
		return nil, nil, nil, err
	}
	w, err := worktree.ForPath(r, target)
	if err != nil {
		os.RemoveAll(tmp)
		unlock()
		return nil, nil, nil, err
	}
	c, err := w.Checkout(ctx, worktree.CheckoutOptions{Rev: rev, Detach: true})
	if err != nil {
		removeWorktree(w)
		unlock()
		return nil, nil, nil, err
	}
	return w, c, unlock, nil
}

// checkoutRunError is the error of a run in the checkout that could not
// be mounted; with nothing checked out, it names --rev too, which runs a
// revision on an overlay of its own.
func checkoutRunError(err error) error {
	if errors.Is(err, worktree.ErrNotCheckedOut) {
		return fmt.Errorf("run: %w, or run a revision with --rev REV", err)
	}
	return fmt.Errorf("run: %w", err)
}

func removeWorktree(w *worktree.Worktree) {
	target := w.Target()
	err := w.Umount()
	if errors.Is(err, worktree.ErrNotCheckedOut) {
		// Its checkout failed. A mount point cannot be removed: if the
		// target can, nothing is mounted there (its marker, written
		// before the mount, goes first).
		if !isMountPoint(target) {
			os.Remove(filepath.Join(target, worktree.MarkerName))
		}
		if rerr := os.Remove(target); rerr == nil || errors.Is(rerr, os.ErrNotExist) {
			err = nil
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "strata: run: remove throwaway overlay: %v\n", err)
		return
	}
	os.RemoveAll(w.Dir)
	os.RemoveAll(filepath.Dir(target))
	w.RemoveHeadLog()
}

// commitTarget is where run --commit puts its commit: the branch --rev
// names or a new -b branch, checked before anything runs.
type commitTarget struct {
	branch string        // full ref name
	old    digest.Digest // what it must still hold ("" for a new branch)
	// checkout is the main work tree when it shows the branch: it is moved
	// with the branch, and must be clean.
	checkout *worktree.Worktree
}

func planCommit(ctx context.Context, r *repo.Repo, base *objects.Commit, o runOptions) (*commitTarget, error) {
	t := &commitTarget{branch: refs.Heads + o.branch}
	if o.branch == "" {
		t.branch, t.old = refs.Heads+o.rev, base.ID
		if d, err := r.Refs.Read(t.branch); err != nil || d != base.ID {
			return nil, usagef("run --commit: %s is not a branch; name a new one with -b", o.rev)
		}
	} else if err := refs.CheckName(t.branch); err != nil {
		return nil, usagef("run -b %s: %w", o.branch, err)
	} else if r.Refs.Exists(t.branch) {
		return nil, fmt.Errorf("run -b %s: branch already exists", o.branch)
	}
	w := worktree.Main(r)
	h, err := r.Refs.ReadHead()
	if err != nil {
		return nil, err
	}
	if _, mounted, _ := w.State(); mounted && h.Branch == t.branch {
		changes, err := w.Status(ctx)
		if err != nil {
			return nil, err
		}
		if len(changes) > 0 {
			return nil, fmt.Errorf("run --commit: %s is checked out with %d uncommitted changes; commit them first", o.rev, len(changes))
		}
		t.checkout = w
	}
	return t, nil
}

// commitThrowaway commits what the run changed as a child of base and
// moves the target branch (and its checkout) there.
func commitThrowaway(ctx context.Context, g *globals, w *worktree.Worktree, t *commitTarget, o runOptions, argv []string) error {
	msg := o.message
	if msg == "" {
		msg = "run: " + strings.Join(argv, " ")
	}
	date, err := commitDate("")
	if err != nil {
		return err
	}
	mt, err := layerMtimes()
	if err != nil {
		return err
	}
	c, _, err := w.Commit(ctx, worktree.CommitOptions{Message: msg, AllowEmpty: true, Date: date, Mtime: mt})
	if err != nil {
		return fmt.Errorf("run --commit: %w", err)
	}
	if t.checkout != nil {
		// Checked again under the lock: what was written in the
		// checkout during the run must not be reset away.
		clean := &worktree.CleanAt{Branch: t.branch, Commit: t.old, By: "run --commit",
			Then: fmt.Sprintf(" (then 'strata reset --hard %s' takes the run's commit)", c.ID)}
		_, err = t.checkout.ResetWith(ctx, worktree.ResetOptions{Rev: c.ID.String(), Mode: worktree.ResetHard, Force: true, Clean: clean})
		if err != nil {
			return fmt.Errorf("run --commit: %s did not move: %w", refs.ShortName(t.branch), err)
		}
	} else {
		err = w.Repo.Refs.Update(t.branch, c.ID, t.old, "run: "+firstLine(msg))
	}
	if err != nil {
		return fmt.Errorf("run --commit: %w", err)
	}
	fmt.Fprintf(g.stderr, "[%s %s] %s\n", refs.ShortName(t.branch), shortID(c.ID), pathquote.Text(firstLine(msg)))
	return nil
}
