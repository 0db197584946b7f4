package worktree

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/snapshot"
)

// Ensure makes sure the work tree is mounted as its state says, finishing
// a switch that a killed command left half done. It returns the state.
func (w *Worktree) Ensure(ctx context.Context) (State, error) {
	unlock, err := w.lock(ctx)
	if err != nil {
		return State{}, err
	}
	defer unlock()
	return w.ensure(ctx)
}

func (w *Worktree) ensureMounted(ctx context.Context) (State, error) {
	st, ok, err := w.State()
	if err != nil {
		return st, err
	}
	if !ok {
		return st, ErrNotCheckedOut
	}
	w.target = st.Target
	if st.moveSettled {
		st.moveSettled = false
		if err := w.writeState(st); err != nil {
			return st, err
		}
	}
	if st.Pending != "" {
		h, err := w.Head()
		if err != nil {
			return st, err
		}
		if h.Commit == st.Pending && st.PendingStack {
			// A commit killed after HEAD moved: the mount stays.
			st.stack(st.Pending, time.Time{}) // when its scan began is lost
			if err := w.writeState(st); err != nil {
				return st, err
			}
		} else if h.Commit == st.Pending {
			slog.Debug("finishing an interrupted switch", "to", st.Pending)
			c, err := w.commit(st.Pending)
			if err != nil {
				return st, err
			}
			if err := w.restageInterrupted(ctx, &st, c); err != nil {
				return st, err
			}
			if st, err = w.switchTo(ctx, st, c, st.PendingKeep || st.PendingCarry); err != nil {
				return st, err
			}
			return st, w.finishKeep(ctx, &st)
		}
		if st.Pending != "" {
			// HEAD never moved: the switch did not happen.
			st.unstagePending()
			st.Pending, st.PendingKeep, st.PendingStack, st.PendingCarry, st.CarryStaged, st.KeepFrom = "", false, false, false, false, ""
			st.PendingMerge, st.PendingMergeBase, st.PendingUnmerged = "", "", nil
			if err := w.writeState(st); err != nil {
				return st, err
			}
		}
	}
	if st.Switching != "" {
		slog.Debug("finishing an interrupted switch", "to", st.Switching)
		c, err := w.commit(st.Switching)
		if err != nil {
			return st, err
		}
		return w.switchTo(ctx, st, c, false)
	}
	for _, d := range []string{"upper.next", "work.next", "upper.carry", "upper.carry.tmp"} {
		if err := os.RemoveAll(filepath.Join(w.Dir, d)); err != nil {
			return st, err
		}
	}
	mounted, err := w.isMounted()
	if err != nil {
		return st, err
	}
	if mounted {
		return st, w.finishKeep(ctx, &st)
	}
	if err := w.checkTarget(st); err != nil {
		return st, err
	}
	if err := w.adoptUpperCopy(); err != nil {
		return st, err
	}
	c, err := w.commit(st.MountBase())
	if err != nil {
		return st, err
	}
	slog.Debug("mounting work tree", "target", st.Target, "commit", st.MountBase())
	if err := w.mount(ctx, c, w.upper(), w.work(), false); err != nil {
		return st, err
	}
	return st, w.finishKeep(ctx, &st)
}

// isMounted reports whether our overlay is the top mount at the target;
// another filesystem there is an error.
func (w *Worktree) isMounted() (bool, error) {
	mi, ok, err := snapshot.Mounted(w.target)
	if err != nil || !ok {
		return false, err
	}
	// The kernel shows the upper's path as it was at mount time: a switch
	// mounts upper.next and renames it to upper afterwards.
	if mi.FSType != "overlay" || mi.Upper != w.upper() && mi.Upper != w.upper()+".next" {
		return false, fmt.Errorf("%s: %w (%s %s)", w.target, ErrTargetBusy, mi.FSType, mi.Options)
	}
	return true, nil
}

// lowers is Snapshots.Lowers as a writer: a snapshot it builds stages
// its files and index in .strata/tmp, which a pruning gc must not remove
// under it. Commands that otherwise only read (status remounting a tree
// after a reboot) take the writers lock for this step alone.
func (w *Worktree) lowers(ctx context.Context, layers []objects.Layer) (dirs []string, err error) {
	err = w.Repo.WithWrites(func() error {
		dirs, err = w.snaps.Lowers(ctx, layers)
		return err
	})
	return dirs, err
}

// prepare unpacks the snapshots a mount of c needs before a switch to c
// is recorded as pending, and mounts them once where nobody sees it. A
// layer no checkout can unpack (a hostile image; a path longer than
// layer.MaxPath), or lowers the kernel refuses, then fail the command and
// leave the work tree as it was, not pending a switch that every later
// command would retry and fail. The mount finds the snapshots made.
func (w *Worktree) prepare(ctx context.Context, c *objects.Commit) error {
	if c == nil {
		return nil
	}
	lowers, err := w.lowers(ctx, c.Layers())
	if err != nil {
		return err
	}
	// The kernel checks the lowers (one directory twice is ELOOP) as it
	// mounts them: here read-only and never attached, so that closing
	// the mount unmounts it. (A scratch upper would cost a sync of its
	// file system at the unmount.) Such a mount needs two lowers; a lower
	// alone, a directory just found, has nothing to be checked against.
	if len(lowers) < 2 {
		return nil
	}
	f, err := snapshot.Plan(lowers, "", "", w.target).Open()
	if err != nil {
		return err
	}
	return f.Close()
}

// mount mounts commit c with the given upper and work directories, under
// the current mount when beneath is set.
func (w *Worktree) mount(ctx context.Context, c *objects.Commit, upper, work string, beneath bool) error {
	lowers, err := w.lowers(ctx, c.Layers())
	if err != nil {
		return err
	}
	if fi, err := os.Lstat(w.target); err == nil && !fi.IsDir() {
		// The mount would fail (move_mount: invalid argument), or
		// mkdir say "not a directory": say what is in the way.
		return fmt.Errorf("%s is a %s, not a directory: move it away, and the next command mounts the work tree there", pathquote.Quote(w.target), fileKind(fi.Mode()))
	}
	for _, d := range []string{upper, work, w.target} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if err := w.closeParent(); err != nil {
		return err
	}
	m := snapshot.Plan(lowers, upper, work, w.target)
	if w.beforeMount != nil {
		w.beforeMount(upper)
	}
	if beneath {
		return m.DoBeneath()
	}
	if err := w.writeMarker(); err != nil {
		return err
	}
	return m.Do()
}

// switchTo mounts commit c with a fresh upper in place of the current
// mount, carrying over the excluded paths of the old upper (they are
// never committed, and never dropped either). st.Pending must already be
// written when HEAD has moved, so that a killed switch is finished by the
// next command. keepUpper mounts c with the same upper: reset --soft,
// which stages what differs so that the view stays, or a checkout that
// carries its changes (st.PendingCarry), which shows c with them.
func (w *Worktree) switchTo(ctx context.Context, st State, c *objects.Commit, keepUpper bool) (State, error) {
	var id digest.Digest
	if c != nil {
		id = c.ID
	}
	mounted, err := w.isMounted()
	if err != nil {
		return st, err
	}
	var users []Proc
	var oldDev overlayID
	if mounted {
		// The caller refused unless --force: the old mount is detached
		// lazily, and its upper must not be mounted a second time.
		if users, err = w.Users(); err != nil {
			return st, err
		}
		oldDev = w.targetOverlay()
	}
	if keepUpper {
		stage := ""
		if base := st.MountBase(); mounted && !st.PendingCarry && base != "" && c != nil && base != c.ID {
			// The view must stay as it is: carry what differs between
			// the lowers it is mounted on and c's. (A checkout that
			// carries its changes shows c's files instead.)
			old, err := w.commit(base)
			if err != nil {
				return st, err
			}
			if stage, err = w.carryCommitted(ctx, old, c); err != nil {
				return st, err
			}
		}
		if mounted {
			if err := snapshot.Unmount(w.target); err != nil {
				return st, err
			}
		}
		if len(users) > 0 {
			old, err := w.retireUpper(ctx, st)
			if err != nil {
				return st, err
			}
			if err := recordDetached(old, oldDev); err != nil {
				return st, err
			}
			slog.Warn("the old mount stays with its users; its upper is kept", "dir", old)
		}
		if stage != "" {
			if err := mergeStaged(stage, w.upper()); err != nil {
				return st, err
			}
		}
		if err := w.mount(ctx, c, w.upper(), w.work(), false); err != nil {
			return st, err
		}
		st.Commit, st.Pending, st.PendingKeep, st.PendingCarry, st.Stacked, st.Base = id, "", false, false, false, ""
		// The view stays (reset --soft, --keep; commit --amend's):
		// its conflict markers stay unmerged.
		st.PendingUnmerged = nil
		return st, w.writeState(st)
	}
	nextUpper, nextWork := filepath.Join(w.Dir, "upper.next"), filepath.Join(w.Dir, "work.next")
	if st.CarryStaged && !exists(nextUpper) && !exists(w.carryDir()) {
		// Killed once the carried changes had taken the old upper's
		// place: only the record is left to write.
		return w.finishStagedCarry(ctx, st, c, mounted)
	}
	if _, err := os.Lstat(nextUpper); err == nil {
		// Prepared by a killed predecessor, maybe mounted already: start
		// the mounting over.
		if err := w.unmountAll(); err != nil {
			return st, err
		}
		mounted = false
	} else {
		// Not prepared by a killed predecessor: prepare now.
		if mounted && len(users) == 0 {
			// What the copy reads (the excluded paths) must not change
			// before the fresh upper is mounted.
			defer w.freezeForSwap()()
		}
		os.RemoveAll(nextWork)
		tmp := nextUpper + ".tmp"
		if st.CarryStaged {
			// The changes a checkout carries, staged before HEAD moved.
			tmp = w.carryDir()
		} else {
			os.RemoveAll(tmp)
			if err := os.MkdirAll(tmp, 0o755); err != nil {
				return st, err
			}
		}
		if err := w.carryExcluded(st, c, tmp); err != nil {
			return st, err
		}
		if err := os.Rename(tmp, nextUpper); err != nil {
			return st, err
		}
		testHook("switch-prepared")
	}
	os.RemoveAll(nextWork)
	if err := w.announce(&st, id); err != nil {
		return st, err
	}
	if err := w.mount(ctx, c, nextUpper, nextWork, mounted); err != nil {
		w.unannounce(&st)
		return st, err
	}
	if mounted {
		// The old overlay sits on top of the new one: removing it reveals
		// the new work tree with no moment where the target is empty.
		if err := snapshot.Unmount(w.target); err != nil {
			return st, err
		}
	}
	testHook("switch-mounted")
	trash, err := os.MkdirTemp(w.Repo.Objects.TempDir(), "old-upper-")
	if err != nil {
		return st, err
	}
	if len(users) > 0 {
		// Still used through the lazily detached mount: keep it.
		trash = filepath.Join(w.Dir, "detached", time.Now().UTC().Format("20060102T150405.000000000"))
		if err := os.MkdirAll(trash, 0o700); err != nil {
			return st, fmt.Errorf("checkout: %w", err)
		}
		if err := recordDetached(trash, oldDev); err != nil {
			return st, err
		}
		slog.Warn("the old mount stays with its users; its upper is kept", "dir", trash)
	}
	for _, d := range []string{"upper", "work"} {
		if err := os.Rename(filepath.Join(w.Dir, d), filepath.Join(trash, d)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return st, err
		}
	}
	if err := os.Rename(nextUpper, w.upper()); err != nil {
		return st, err
	}
	if err := os.Rename(nextWork, w.work()); err != nil {
		return st, err
	}
	testHook("switch-renamed")
	st.Commit, st.Pending, st.PendingKeep, st.Stacked, st.Base, st.Switching, st.CarryStaged = id, "", false, false, "", "", false
	st.PendingMerge, st.PendingMergeBase = "", ""
	if err := w.takeUnmerged(&st); err != nil {
		return st, err
	}
	if err := w.writeState(st); err != nil {
		return st, err
	}
	if len(users) == 0 {
		if err := os.RemoveAll(trash); err != nil {
			slog.Warn("remove old upper", "dir", trash, "err", err)
		}
	}
	return st, nil
}

// announce records, before a switch mounts upper.next, the commit it
// mounts, unless Pending already names it (HEAD moving there makes the
// next command finish the switch). Without it, a command killed with
// upper.next mounted left the next one removing the live upper.
func (w *Worktree) announce(st *State, id digest.Digest) error {
	if id == "" || st.Pending == id || st.Switching == id {
		return nil
	}
	st.Switching = id
	return w.writeState(*st)
}

// unannounce forgets a switch whose mount failed: the old mount is still
// up, and later commands must not retry what fails.
func (w *Worktree) unannounce(st *State) {
	if st.Switching == "" {
		return
	}
	st.Switching = ""
	if err := w.writeState(*st); err != nil {
		slog.Warn("forget a failed switch", "err", err)
	}
}

// Umount unmounts the work tree; its upper and state stay, so the next
// command mounts it again.
func (w *Worktree) Umount() error {
	unlock, err := w.lock(context.Background())
	if err != nil {
		return err
	}
	defer unlock()
	st, ok, err := w.State()
	if err != nil {
		return err
	}
	if !ok {
		return ErrNotCheckedOut
	}
	w.target = st.Target
	users, err := w.Users()
	if err != nil {
		return err
	}
	dev := w.targetOverlay()
	if err := w.unmountAll(); err != nil {
		return err
	}
	if len(users) > 0 {
		// Detached lazily (--force): the next mount takes a copy of the
		// upper, never the one the old mount still writes.
		old, err := w.retireUpper(context.Background(), st)
		if err != nil {
			return err
		}
		if err := recordDetached(old, dev); err != nil {
			return err
		}
		slog.Warn("the old mount stays with its users; its upper is kept", "dir", old)
	}
	return nil
}

// unmountAll removes every overlay of this work tree from its target.
func (w *Worktree) unmountAll() error {
	for {
		mounted, err := w.isMounted()
		if err != nil || !mounted {
			return err
		}
		if err := snapshot.Unmount(w.target); err != nil {
			return err
		}
	}
}

// fileKind names a file's type for messages.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "symlink"
	case m.IsRegular():
		return "file"
	}
	return "special file"
}
