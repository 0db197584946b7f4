package worktree

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/strata-sh/strata/internal/pathquote"
	"golang.org/x/sys/unix"
)

// settleMove ends, in st, a move that a killed 'worktree move' left
// recorded (MovingTo): the tree is where its directory is now, the new
// place once the old path is gone and the directory recorded (TargetID)
// is at the new one, the old place otherwise. The directory moves in
// one rename, so it is at one or the other.
func (st *State) settleMove() {
	if st.MovingTo == "" {
		return
	}
	if _, err := os.Lstat(st.Target); errors.Is(err, fs.ErrNotExist) {
		if id, err := dirID(st.MovingTo); err == nil && id == st.TargetID {
			st.Target = st.MovingTo
		}
	}
	st.MovingTo, st.moveSettled = "", true
}

// Move moves an extra work tree's directory to dst, as git's worktree
// move: into dst when dst is a directory, which must not hold one of
// that name. It refuses a locked tree unless force is 2 (git's -f -f),
// and a tree in use unless force, with which the old mount stays with
// its users, lazily detached, as checkout --force leaves it. The tree is
// unmounted, its directory renamed (so on the same file system), and
// mounted again if it was. It returns where the tree is now.
//
// Killed at any point, the tree is at one place or the other, never
// half moved: the state records the move (MovingTo) before anything
// moves, and the next command finds the directory where it is
// (settleMove).
func (w *Worktree) Move(ctx context.Context, dst string, force int) (string, error) {
	if w.Name == MainName {
		return "", fmt.Errorf("%s is the main work tree: it is the project's rootfs, and moves with the project", pathquote.Quote(w.target))
	}
	unlock, err := w.lock(ctx)
	if err != nil {
		return "", err
	}
	defer unlock()
	st, ok, err := w.State()
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("%s: %w", pathquote.Quote(w.target), ErrWorktreeNotFound)
	}
	if st.Pending != "" || st.Switching != "" || st.KeepFrom != "" || st.moveSettled {
		if st, err = w.ensure(ctx); err != nil { // a killed command's switch first
			return "", err
		}
	}
	from := st.Target
	w.target = from
	if force < 2 {
		if err := w.refuseLocked("move"); err != nil {
			return "", err
		}
	}
	mounted, err := w.isMounted()
	if err != nil {
		return "", err
	}
	if !mounted {
		// Mounted, the overlay is ours (isMounted): its directory is the
		// one recorded, which checkTarget checks beneath no mount.
		if err := w.checkTarget(st); err != nil {
			return "", err
		}
	}
	to, err := moveDestination(from, dst)
	if err != nil {
		return "", err
	}
	if err := checkPlace(w.Repo, to); err != nil {
		return "", err
	}
	var users []Proc
	var oldDev overlayID
	if mounted {
		if force == 0 {
			if err := w.RefuseWhileRunning(); err != nil {
				return "", err
			}
		}
		if users, err = w.Users(); err != nil {
			return "", err
		}
		oldDev = w.targetOverlay()
	}
	// What the mount checks of its place (a parent others share), before
	// anything moves.
	w.target = to
	err = w.closeParent()
	w.target = from
	if err != nil {
		return "", err
	}

	st.MovingTo = to
	if err := w.writeState(st); err != nil {
		return "", err
	}
	testHook("worktree-move-recorded")
	if err := w.unmountAll(); err != nil {
		return "", w.moveBack(ctx, st, mounted, err)
	}
	if len(users) > 0 {
		old, err := w.retireUpper(ctx, st)
		if err != nil {
			return "", w.moveBack(ctx, st, mounted, err)
		}
		if err := recordDetached(old, oldDev); err != nil {
			return "", w.moveBack(ctx, st, mounted, err)
		}
		slog.Warn("the old mount stays with its users; its upper is kept", "dir", old)
	}
	testHook("worktree-move-unmounted")
	// Never over a directory made there since it was checked.
	if err := unix.Renameat2(unix.AT_FDCWD, from, unix.AT_FDCWD, to, unix.RENAME_NOREPLACE); err != nil {
		return "", w.moveBack(ctx, st, mounted, &os.LinkError{Op: "rename", Old: from, New: to, Err: err})
	}
	testHook("worktree-move-renamed")
	st.Target, st.MovingTo = to, ""
	w.target = to
	if err := w.writeState(st); err != nil {
		return to, err
	}
	if mounted {
		if _, err := w.ensure(ctx); err != nil {
			return to, fmt.Errorf("moved to %s, but not mounted there: %w", pathquote.Quote(to), err)
		}
	}
	return to, nil
}

// moveBack undoes a move that failed before the rename: the state names
// the old place again, mounted again if it was.
func (w *Worktree) moveBack(ctx context.Context, st State, mounted bool, cause error) error {
	st.MovingTo = ""
	if err := w.writeState(st); err != nil {
		return errors.Join(cause, err)
	}
	if mounted {
		if _, err := w.ensure(ctx); err != nil {
			return errors.Join(cause, err)
		}
	}
	if errors.Is(cause, unix.EXDEV) {
		return fmt.Errorf("%s stays where it is: %w (a work tree moves within its file system)", pathquote.Quote(st.Target), cause)
	}
	return fmt.Errorf("%s stays where it is: %w", pathquote.Quote(st.Target), cause)
}

// moveDestination is where worktree move takes from: dst, or inside dst
// when dst is a directory, as git's; that place must not exist.
func moveDestination(from, dst string) (string, error) {
	to, err := canonical(dst)
	if err != nil {
		return "", err
	}
	if fi, err := os.Stat(to); err == nil && fi.IsDir() {
		to = filepath.Join(to, filepath.Base(from))
	}
	if _, err := os.Lstat(to); err == nil {
		return "", fmt.Errorf("%s already exists", pathquote.Quote(to))
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if _, err := os.Stat(filepath.Dir(to)); err != nil {
		return "", err
	}
	return to, nil
}
