package worktree

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/strata-sh/strata/internal/regfile"
)

// A commit keeps the mount (stacked), so the upper keeps every change
// since the mount base. Compact remounts the work tree on its commit with
// a fresh upper once nothing uses it, as checkout would, but only when it
// cannot lose a write or pull the tree from under anyone:
//
//   - no run is registered and no process has its cwd, root, an open file
//     or a mapping in the tree (Users);
//   - the old overlay is unmounted without MNT_DETACH: a process that came
//     in meanwhile makes that fail (EBUSY), and nothing changes;
//   - once unmounted, nothing in the old upper may have changed since the
//     commit's scan began (ctime against a stamp taken then, on the same
//     file system's clock); else the old mount is made again as it was.
//
// The switch itself is checkout's (switchTo, with Pending written first),
// so a compaction killed half-way is finished by the next command.

// scanStamp is the file whose ctime marks the start of a commit's scan.
func (w *Worktree) scanStamp() string { return filepath.Join(w.Dir, "scan.stamp") }

// stampScan marks the start of a commit's scan (see Compact).
//
// File times come from the kernel's coarse clock (one tick, 4 ms at
// HZ=250), so a write just before the stamp could carry the stamp's
// very time, and Compact, which must count a tie as a change, would keep
// an idle tree stacked. Since Linux 6.13 (multigrain timestamps: ext4,
// xfs, btrfs, tmpfs) a file whose ctime was read since its last change
// gets a fine-grained time on the next one, later than any time handed
// out before; the Stat below asks for that.
func (w *Worktree) stampScan() {
	// The stamp comes with the repository: a link or FIFO planted there
	// is not written through, nor waited on (regfile.OpenOwn), but taken
	// away, so that Compact, finding no stamp, keeps the mount.
	f, err := regfile.OpenOwn(w.scanStamp(), os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		os.Remove(w.scanStamp())
		return
	}
	f.Stat()
	f.Write([]byte("scan\n")) // a write updates ctime even on an existing file
	f.Close()
}

// CompactAfter is how many commits the CLI stacks on one mount before it
// compacts an idle work tree: a compaction costs a remount, the snapshot
// of the new layers and deleting the old upper (tens of ms), which would
// double the cost of a small commit if paid every time.
const CompactAfter = 16

// Compact remounts a work tree that nothing uses on its commit with a
// fresh upper (excluded paths carried over), once at least minStacked
// commits are stacked on its mount. It reports whether it did; anything
// in the way makes it a no-op, not an error.
func (w *Worktree) Compact(ctx context.Context, minStacked int) (bool, error) {
	unlock, err := w.lock(ctx)
	if err != nil {
		return false, err
	}
	defer unlock()
	st, ok, err := w.State()
	if err != nil || !ok || !st.Stacked || st.Pending != "" {
		return false, err
	}
	w.target = st.Target
	if mounted, err := w.isMounted(); err != nil || !mounted {
		return false, err
	}
	if h, err := w.Head(); err != nil || h.Commit != st.Commit {
		return false, err // HEAD moved elsewhere: the next commit says so
	}
	if w.stacked(st, minStacked) < minStacked {
		return false, nil
	}
	var stamp unix.Stat_t
	if err := unix.Lstat(w.scanStamp(), &stamp); err != nil {
		return false, nil
	}
	if ids, err := w.Runs(); err != nil || len(ids) > 0 {
		return false, err
	}
	if users, err := w.Users(); err != nil || len(users) > 0 {
		return false, err
	}
	c, err := w.commit(st.Commit)
	if err != nil || c == nil {
		return false, err
	}
	// Read while the tree (and its /.strataignore) is mounted; the
	// excluded paths move to the fresh upper only once it is not.
	ex, err := LoadExcludes(w.Repo.Root, w.target)
	if err != nil {
		return false, err
	}
	if ex, err = w.untracked(ex, st); err != nil {
		return false, err
	}
	if err := unix.Unmount(w.target, 0); err != nil {
		if errors.Is(err, unix.EBUSY) {
			return false, nil // someone came in
		}
		return false, fmt.Errorf("compact: unmount %s: %w", w.target, err)
	}
	if changedSince(w.upper(), stamp.Ctim) {
		// A write the commit did not see: keep it, mounted as it was.
		base, err := w.commit(st.MountBase())
		if err != nil {
			return false, err
		}
		return false, w.mount(ctx, base, w.upper(), w.work(), false)
	}
	st.Pending, st.PendingKeep, st.PendingStack = st.Commit, false, false
	if err := w.writeState(st); err != nil {
		return false, err
	}
	// The fresh upper, which switchTo adopts as a prepared one.
	next := w.upper() + ".next"
	tmp := next + ".tmp"
	os.RemoveAll(next)
	os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return false, fmt.Errorf("compact: %w", err)
	}
	if err := w.carryExcludedBy(ex, tmp); err != nil {
		return false, fmt.Errorf("compact: %w", err)
	}
	if err := os.Rename(tmp, next); err != nil {
		return false, fmt.Errorf("compact: %w", err)
	}
	if _, err := w.switchTo(ctx, st, c, false); err != nil {
		return false, fmt.Errorf("compact: %w", err)
	}
	return true, nil
}

// changedSince reports whether anything under dir has a ctime at or after
// t (an error counts as a change: the caller then keeps everything).
func changedSince(dir string, t unix.Timespec) bool {
	changed := false
	err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		if st.Ctim.Sec > t.Sec || st.Ctim.Sec == t.Sec && st.Ctim.Nsec >= t.Nsec {
			changed = true
			return filepath.SkipAll
		}
		return nil
	})
	return changed || err != nil
}

// stacked counts the commits made on the mount (from its commit back to
// its base), up to max.
func (w *Worktree) stacked(st State, max int) int {
	n := 0
	for d := st.Commit; d != "" && d != st.Base && n < max; n++ {
		p, err := w.Repo.Objects.Parent(d)
		if err != nil {
			return n
		}
		d = p
	}
	return n
}
