package worktree

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/strata-sh/strata/internal/atomicfile"
	"github.com/strata-sh/strata/internal/pathquote"
)

// ErrMainLocked: the main work tree is never locked, nor unlocked.
var ErrMainLocked = errors.New("the main work tree cannot be locked or unlocked")

// lockedFile is git's worktrees/NAME/locked: it exists while the work
// tree is locked, and holds the reason given, if any. (The work tree's
// "lock" file is another thing: the flock its commands take.)
func (w *Worktree) lockedFile() string { return filepath.Join(w.Dir, "locked") }

// MaxLockReason is the longest reason Lock takes, in bytes.
const MaxLockReason = maxMarker

// Locked reports whether the work tree is locked (worktree lock), and
// the reason given. The file locks, as git's: one whose reason does not
// read (too big, not a regular file: a repository handed over) locks
// with no reason, rather than fail list, remove and move.
func (w *Worktree) Locked() (reason string, locked bool) {
	if w.Name == MainName {
		return "", false
	}
	b, err := readSmall(w.lockedFile(), maxMarker)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false
	}
	if err != nil {
		slog.Debug("lock reason unread", "file", w.lockedFile(), "err", err)
		return "", true
	}
	return strings.TrimSuffix(string(b), "\n"), true
}

// Lock locks an extra work tree, as git's worktree lock: prune keeps it
// even when its directory is gone (on a disk not plugged in), and remove
// and move refuse it unless forced twice. It fails if the tree is locked
// already.
func (w *Worktree) Lock(ctx context.Context, reason string) error {
	if len(reason) > MaxLockReason {
		return fmt.Errorf("a lock reason of %d bytes: at most %d", len(reason), MaxLockReason)
	}
	unlock, err := w.lockChecked(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if why, ok := w.Locked(); ok {
		return &LockedError{Target: w.target, Reason: why, Already: true}
	}
	return atomicfile.Write(w.Repo.Objects.TempDir(), w.lockedFile(), []byte(reason), 0o644)
}

// Unlock unlocks a work tree that Lock locked; it fails if it is not.
func (w *Worktree) Unlock(ctx context.Context) error {
	unlock, err := w.lockChecked(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if err := os.Remove(w.lockedFile()); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s is not locked", pathquote.Quote(w.target))
	} else if err != nil {
		return err
	}
	return nil
}

// lockChecked takes the work tree's flock, for a tree that exists and is
// not the main one.
func (w *Worktree) lockChecked(ctx context.Context) (func(), error) {
	if w.Name == MainName {
		return nil, ErrMainLocked
	}
	unlock, err := w.lock(ctx)
	if err != nil {
		return nil, err
	}
	if _, ok, err := w.State(); err != nil || !ok {
		unlock()
		if err == nil {
			err = fmt.Errorf("%s: %w", pathquote.Quote(w.target), ErrWorktreeNotFound)
		}
		return nil, err
	}
	return unlock, nil
}

// refuseLocked refuses to verb (remove, move) a locked work tree.
func (w *Worktree) refuseLocked(verb string) error {
	why, ok := w.Locked()
	if !ok {
		return nil
	}
	return &LockedError{Target: w.target, Reason: why, Verb: verb}
}

// LockedError says a work tree is locked: Lock found it so (Already),
// or Verb (remove, move) refused it.
type LockedError struct {
	Target, Reason, Verb string
	Already              bool
}

func (e *LockedError) Error() string {
	reason := ""
	if e.Reason != "" {
		reason = ", reason: " + pathquote.Name(e.Reason)
	}
	if e.Already {
		return fmt.Sprintf("%s is already locked%s", pathquote.Quote(e.Target), reason)
	}
	if e.Reason != "" {
		reason = ", lock reason: " + pathquote.Name(e.Reason)
	}
	return fmt.Sprintf("cannot %s a locked work tree%s; use '%s -f -f' to override, or 'strata worktree unlock %s' first",
		e.Verb, reason, e.Verb, pathquote.Quote(e.Target))
}
