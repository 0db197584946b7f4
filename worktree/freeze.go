package worktree

// A switch copies the uncommitted changes out of the mounted view before
// it mounts the new commit in its place (a staged carry; a clean tree's
// switch mounts a fresh upper too), and a whole-tree stash saves them
// before it mounts HEAD so: a write into the view between the copy and
// the swap would go to the old upper, and with it to the trash.
// The view is made read-only for that time instead, so that such a
// write fails, and none is lost.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/strata-sh/strata/internal/pathquote"
	"golang.org/x/sys/unix"
)

// ThawNotice, when set, is told that a command found the view left
// read-only by one killed while it had it frozen (named by its command
// line), and made it writable again: the CLI says so, to a user who met
// "Read-only file system" there and wonders why.
var ThawNotice func(frozenBy string)

// ensure is ensureMounted, then makes the view writable again if a
// switch killed while it was frozen left it read-only.
func (w *Worktree) ensure(ctx context.Context) (State, error) {
	st, err := w.ensureMounted(ctx)
	if err != nil {
		return st, err
	}
	by, err := os.ReadFile(w.frozenMarker())
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	frozenBy := strings.TrimSpace(string(by))
	if frozenBy == "" {
		frozenBy = "a command"
	}
	if err := w.thawView(); err != nil {
		return st, fmt.Errorf("the work tree is read-only, as %s left it when it was killed: %w", frozenBy, err)
	}
	if ThawNotice != nil {
		ThawNotice(frozenBy)
	}
	return st, nil
}

// frozenMarker names the file that says the view was made read-only by
// a switch, for the next command to undo if that switch was killed.
func (w *Worktree) frozenMarker() string { return filepath.Join(w.Dir, "frozen") }

// freezeUnused freezes the view (freezeView) and refuses while anything
// uses it (RefuseWhileRunning), which names a process that keeps the
// view from freezing, if it can.
func (w *Worktree) freezeUnused() (thaw func(), err error) {
	thaw, err = w.freezeView()
	if err != nil {
		if inUse := w.RefuseWhileRunning(); inUse != nil {
			return nil, inUse
		}
		return nil, err
	}
	if err := w.RefuseWhileRunning(); err != nil {
		thaw()
		return nil, err
	}
	return thaw, nil
}

// guardSwap is what a command that mounts a fresh upper in place of the
// view does first, under the lock and before anything moves or is
// checked: unless forced, it refuses while anything uses the view, and
// freezes it (freezeUnused), as checkout does. Forced, it freezes a view
// nobody uses if the kernel lets it; a process that does use it keeps
// the old mount, and its upper is kept (switchTo).
func (w *Worktree) guardSwap(force bool) (thaw func(), err error) {
	if !force {
		return w.freezeUnused()
	}
	users, err := w.Users()
	if err != nil {
		return nil, err
	}
	if len(users) > 0 {
		return func() {}, nil
	}
	return w.freezeForSwap(), nil
}

// freezeForSwap freezes the view for a switch that its caller did not
// freeze (a sequencer's remount and its end, a forced reset --hard with
// users gone: they drop the changes, but not the excluded paths, copied
// into the fresh upper), and
// returns what thaws it. HEAD may have moved already, so a view the
// kernel will not freeze (a file open for writing) is swapped as before.
func (w *Worktree) freezeForSwap() (thaw func()) {
	if _, err := os.Lstat(w.frozenMarker()); err == nil {
		return func() {} // frozen by the caller, which thaws it
	}
	thaw, err := w.freezeView()
	if err != nil {
		slog.Debug("the work tree stays writable during the switch", "err", err)
		return func() {}
	}
	return thaw
}

// freezeView makes the mounted view read-only (the mount, not its file
// system: mount_setattr), and returns what makes it writable again. The
// kernel refuses while a file in it is open for writing (EBUSY): that
// process could still write, so the switch is refused too. Not mounted,
// there is nothing to freeze.
func (w *Worktree) freezeView() (thaw func(), err error) {
	if mounted, err := w.isMounted(); err != nil || !mounted {
		return func() {}, err
	}
	// Who froze it, for the command that finds it frozen (ensure).
	if err := os.WriteFile(w.frozenMarker(), []byte(commandLine()+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("freeze the work tree: %w", err)
	}
	err = setReadOnly(w.target, true)
	if errors.Is(err, unix.EBUSY) {
		os.Remove(w.frozenMarker())
		return nil, fmt.Errorf("%s is %w: a process has a file open for writing in it; close it, "+ForceHint, w.displayName(), ErrInUse)
	}
	if err != nil {
		os.Remove(w.frozenMarker())
		return nil, fmt.Errorf("make %s read-only: %w", w.target, err)
	}
	return func() {
		if err := w.thawView(); err != nil {
			slog.Warn("the work tree stays read-only until the next command", "err", err)
		}
	}, nil
}

// thawView makes the view writable again after a switch that froze it
// (freezeView), done, refused or killed; the marker goes last, so that
// a command killed before is followed by one that thaws it.
func (w *Worktree) thawView() error {
	if _, err := os.Lstat(w.frozenMarker()); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if mounted, err := w.isMounted(); err != nil {
		return err
	} else if mounted {
		if err := setReadOnly(w.target, false); err != nil {
			return fmt.Errorf("make %s writable again: %w", w.target, err)
		}
	}
	return os.Remove(w.frozenMarker())
}

// commandLine is this process's command line on one line ("strata
// checkout main"), each argument quoted as a file name is (pathquote).
func commandLine() string {
	args := append([]string{filepath.Base(os.Args[0])}, os.Args[1:]...)
	for i, a := range args {
		args[i] = pathquote.Quote(a)
	}
	return strings.Join(args, " ")
}

// setReadOnly sets or clears the read-only flag of the mount at target.
func setReadOnly(target string, ro bool) error {
	attr := &unix.MountAttr{}
	if ro {
		attr.Attr_set = unix.MOUNT_ATTR_RDONLY
	} else {
		attr.Attr_clr = unix.MOUNT_ATTR_RDONLY
	}
	return unix.MountSetattr(unix.AT_FDCWD, target, 0, attr)
}
