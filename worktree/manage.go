package worktree

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"

	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/tree"
)

// Remove unmounts an extra work tree and deletes it: its upper, state and
// (if empty once unmounted) its directory. Unless force (git's -f) it
// refuses while the tree has uncommitted changes or anything uses it;
// a locked tree (Lock) it refuses unless force is 2 (git's -f -f).
func (w *Worktree) Remove(ctx context.Context, force int) error {
	if w.Name == MainName {
		return fmt.Errorf("worktree remove: %s is the main work tree; use 'strata umount'", w.target)
	}
	unlock, err := w.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	st, ok, err := w.State()
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("worktree remove: %w", ErrWorktreeNotFound)
	}
	w.target = st.Target
	if force < 2 {
		if err := w.refuseLocked("remove"); err != nil {
			return fmt.Errorf("worktree remove: %w", err)
		}
	}
	if force == 0 {
		if err := w.RefuseWhileRunning(); err != nil {
			return fmt.Errorf("worktree remove: %w", err)
		}
		if err := w.refuseLosingChanges(ctx, st); err != nil {
			return fmt.Errorf("worktree remove: %w", err)
		}
	}
	if err := w.unmountAll(); err != nil {
		return err
	}
	// The directory goes too if it is the one the work tree was made in.
	ours := w.checkTarget(st) == nil
	if err := w.discardDir(); err != nil {
		return fmt.Errorf("worktree remove: %w", err)
	}
	w.RemoveHeadLog()
	os.Remove(filepath.Join(w.target, MarkerName)) // unmounted: it shows
	if !ours {
		return nil
	}
	// Files of its own, that add --force mounted over, stay with it:
	// the work tree is removed all the same.
	if err := os.Remove(w.target); err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTEMPTY) {
		return fmt.Errorf("worktree remove: %s kept: %w", w.target, err)
	}
	return nil
}

// refuseLosingChanges refuses while the work tree has uncommitted
// changes. They live in its upper, under .strata, not in its directory:
// a directory deleted by hand, or on a file system not mounted now (a
// disk, a network share), still leaves them to lose.
func (w *Worktree) refuseLosingChanges(ctx context.Context, st State) error {
	if _, err := os.Stat(w.target); err != nil {
		changes, err := w.upperChanges(ctx, st)
		if err != nil {
			return fmt.Errorf("%s is gone, and its upper %s could not be read for uncommitted changes: %w; use --force to discard it", pathquote.Quote(w.target), pathquote.Quote(w.upper()), err)
		}
		if len(changes) > 0 {
			return &GoneError{Target: w.target, Upper: w.upper(), Changes: changes}
		}
		return nil
	}
	st, err := w.ensure(ctx)
	if err != nil {
		return err
	}
	return w.refuseChanges(ctx, st)
}

// upperChanges is scanChanges for a work tree that cannot be mounted:
// an upper that is not there (a state alone) holds nothing.
func (w *Worktree) upperChanges(ctx context.Context, st State) ([]tree.Change, error) {
	if _, err := os.Lstat(w.upper()); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return w.scanChanges(ctx, st)
}

// GoneError is an extra work tree whose directory is gone while its
// upper still holds uncommitted changes. It wraps ErrDirty.
type GoneError struct {
	Target, Upper string
	Changes       []tree.Change
	Discard       string // how to discard them; "" for "use --force"
}

func (e *GoneError) Error() string {
	discard := e.Discard
	if discard == "" {
		discard = "use --force"
	}
	return fmt.Sprintf("%s is gone, but %s holds its uncommitted changes: %s; mount its file system again to commit them, or %s to discard them",
		pathquote.Quote(e.Target), pathquote.Quote(e.Upper), changeList(e.Changes), discard)
}

func (e *GoneError) Unwrap() error { return ErrDirty }

// Prune forgets extra work trees whose directory is gone (deleted by
// hand), as git's worktree prune does; it returns their names. A tree
// whose upper still holds uncommitted changes is kept (its directory
// may only be on a file system not mounted now), as is a locked one:
// kept says why, each. dryRun only says which it would forget.
func Prune(ctx context.Context, r *repo.Repo, dryRun bool) (pruned []string, kept []error, err error) {
	all, err := List(r)
	if err != nil {
		return nil, nil, err
	}
	for _, w := range all {
		if w.Name == MainName {
			continue
		}
		ok, why, err := w.prune(ctx, dryRun)
		if err != nil {
			return pruned, kept, fmt.Errorf("worktree prune: %w", err)
		}
		if why != nil {
			kept = append(kept, fmt.Errorf("%s: %w", pathquote.Quote("worktrees/"+w.Name), why))
		}
		if ok {
			pruned = append(pruned, w.Name)
		}
	}
	return pruned, kept, nil
}

// prune deletes the work tree if its directory is gone and its upper
// holds nothing uncommitted; kept says why a gone tree stays.
func (w *Worktree) prune(ctx context.Context, dryRun bool) (ok bool, kept, err error) {
	if !w.Missing() {
		return false, nil, nil
	}
	unlock, err := w.lock(ctx)
	if err != nil {
		return false, nil, err
	}
	defer unlock()
	st, found, err := w.State()
	if err != nil || !found {
		return false, nil, err // removed meanwhile, or unreadable: not ours to guess
	}
	w.target = st.Target
	if mounted, _ := w.isMounted(); mounted {
		return false, nil, nil
	}
	if why, ok := w.Locked(); ok {
		if why != "" {
			why = ": " + pathquote.Name(why)
		}
		return false, fmt.Errorf("%s is gone, but the work tree is locked%s", pathquote.Quote(w.target), why), nil
	}
	discard := "run 'strata worktree remove --force " + pathquote.Quote(w.target) + "'"
	changes, err := w.upperChanges(ctx, st)
	if err != nil {
		return false, fmt.Errorf("%s is gone, and its upper %s could not be read for uncommitted changes: %w; %s to discard it", pathquote.Quote(w.target), pathquote.Quote(w.upper()), err, discard), nil
	}
	if len(changes) > 0 {
		return false, &GoneError{Target: w.target, Upper: w.upper(), Changes: changes, Discard: discard}, nil
	}
	if dryRun {
		return true, nil, nil
	}
	if err := w.discardDir(); err != nil {
		return false, nil, err
	}
	w.RemoveHeadLog()
	return true, nil, nil
}

// discardDir deletes the work tree's directory under .strata (state,
// upper, HEAD). It is renamed into .strata/tmp first, in one step: a
// command killed, or a delete failed, half-way leaves the whole tree or
// none of it, never a state over half an upper; gc sweeps what is left.
func (w *Worktree) discardDir() error {
	trash, err := os.MkdirTemp(w.Repo.Objects.TempDir(), "removed-worktree-")
	if err != nil {
		return err
	}
	if err := os.Rename(w.Dir, filepath.Join(trash, "dir")); err != nil {
		os.Remove(trash)
		return err
	}
	if err := os.RemoveAll(trash); err != nil {
		slog.Warn("the removed work tree's files are left for gc", "dir", trash, "err", err)
	}
	return nil
}

// Missing reports whether an extra work tree's directory is gone
// (deleted by hand, or on a file system not mounted now): prune forgets
// such a tree, unless its upper holds uncommitted changes. The main one's
// rootfs is made again by the next command.
func (w *Worktree) Missing() bool {
	if w.Name == MainName {
		return false
	}
	_, err := os.Lstat(w.target)
	return errors.Is(err, fs.ErrNotExist)
}

// Mounted reports whether the work tree is mounted now.
func (w *Worktree) Mounted() bool {
	ok, err := w.isMounted()
	return ok && err == nil
}
