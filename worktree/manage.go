package worktree

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/strata-sh/strata/repo"
)

// Remove unmounts an extra work tree and deletes it: its upper, state and
// (if empty once unmounted) its directory. Unless force it refuses while
// the tree has uncommitted changes or anything uses it.
func (w *Worktree) Remove(ctx context.Context, force bool) error {
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
	if !force {
		if err := w.RefuseWhileRunning(); err != nil {
			return fmt.Errorf("worktree remove: %w", err)
		}
		if _, err := os.Stat(w.target); err == nil {
			if st, err = w.ensure(ctx); err != nil {
				return err
			}
			changes, err := w.scanChanges(ctx, st)
			if err != nil {
				return err
			}
			if len(changes) > 0 {
				return fmt.Errorf("worktree remove: %w", &DirtyError{Changes: changes})
			}
		}
	}
	if err := w.unmountAll(); err != nil {
		return err
	}
	// The directory goes too if it is the one the work tree was made in.
	ours := w.checkTarget(st) == nil
	if err := os.RemoveAll(w.Dir); err != nil {
		return fmt.Errorf("worktree remove: %w", err)
	}
	w.RemoveHeadLog()
	os.Remove(filepath.Join(w.target, MarkerName)) // unmounted: it shows
	if !ours {
		return nil
	}
	if err := os.Remove(w.target); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("worktree remove: %s kept: %w", w.target, err)
	}
	return nil
}

// Prune forgets extra work trees whose directory is gone (deleted by
// hand), as git's worktree prune does; it returns their names.
func Prune(r *repo.Repo) ([]string, error) {
	all, err := List(r)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, w := range all {
		if w.Name == MainName {
			continue
		}
		if _, err := os.Lstat(w.target); !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if mounted, _ := w.isMounted(); mounted {
			continue
		}
		if err := os.RemoveAll(w.Dir); err != nil {
			return out, fmt.Errorf("worktree prune: %w", err)
		}
		w.RemoveHeadLog()
		out = append(out, w.Name)
	}
	return out, nil
}

// Mounted reports whether the work tree is mounted now.
func (w *Worktree) Mounted() bool {
	ok, err := w.isMounted()
	return ok && err == nil
}
