package worktree

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestDetachedUppersPrunedWhenUnused: an upper kept for a mount detached
// by --force is listed with its size and its user, survives a prune while
// the shell inside lives, and is deleted by the first prune after it exits.
// detachWithShell commits on the base, starts a shell in the work tree's
// /etc and checks out the base with --force: the old mount is detached
// lazily, its upper kept in use by the shell.
func detachWithShell(t *testing.T) (*Worktree, func(string) string) {
	ctx := context.Background()
	_, c1, w := checkedOutBase(t)
	must(t, write(w.Target()+"/etc/two", "two\n"))
	_, _, err := w.Commit(ctx, CommitOptions{Message: "two"})
	must(t, err)
	sh := shellIn(t, filepath.Join(w.Target(), "etc"))
	_, err = w.Checkout(ctx, CheckoutOptions{Rev: c1.ID.String(), Force: true})
	must(t, err)
	return w, sh
}

func TestDetachedUppersPrunedWhenUnused(t *testing.T) {
	w, sh := detachWithShell(t)
	pid := strings.TrimSpace(sh("echo $$"))
	sh("echo written-after > late") // lands in the detached upper

	ds, err := w.DetachedUppers()
	must(t, err)
	if len(ds) != 1 || !ds[0].InUse() || ds[0].Unknown || len(ds[0].Procs) != 1 || fmt.Sprint(ds[0].Procs[0].PID) != pid {
		t.Fatalf("detached uppers = %+v; want one used by %s", ds, pid)
	}
	if ds[0].Bytes < int64(len("written-after\n")) {
		t.Fatalf("detached upper size %d; want at least the late write", ds[0].Bytes)
	}
	gone, err := w.PruneDetached(false)
	must(t, err)
	if len(gone) != 0 {
		t.Fatalf("pruned %d uppers still in use", len(gone))
	}
	if _, err := os.Stat(filepath.Join(ds[0].Dir, "upper", "etc", "late")); err != nil {
		t.Fatalf("the in-use upper lost a write: %v", err)
	}

	sh("cd /") // the shell leaves the tree: nothing uses the old mount
	ds, err = w.DetachedUppers()
	must(t, err)
	if len(ds) != 1 || ds[0].InUse() {
		t.Fatalf("detached uppers after the shell left = %+v; want one unused", ds)
	}
	if gone, _ := w.PruneDetached(true); len(gone) != 1 {
		t.Fatalf("dry run lists %d; want 1", len(gone))
	}
	if _, err := os.Stat(ds[0].Dir); err != nil {
		t.Fatalf("a dry run deleted: %v", err)
	}
	gone, err = w.PruneDetached(false)
	must(t, err)
	if len(gone) != 1 {
		t.Fatalf("pruned %d; want 1", len(gone))
	}
	if _, err := os.Stat(filepath.Join(w.Dir, "detached")); !os.IsNotExist(err) {
		t.Fatalf("detached/ still there: %v", err)
	}
}

// TestDetachedUpperNotKeptByReusedDevice: the kernel gives a freed
// overlay's device number to the next overlay mounted. A process in that
// new overlay must not keep the old detached upper in use: the record
// names the overlay by its f_fsid as well.
func TestDetachedUpperNotKeptByReusedDevice(t *testing.T) {
	w, sh := detachWithShell(t)
	ds, err := w.DetachedUppers()
	must(t, err)
	if len(ds) != 1 || len(ds[0].Procs) != 1 {
		t.Fatalf("detached uppers = %+v; want one in use", ds)
	}
	old, ok := readDetached(ds[0].Dir)
	now := w.targetOverlay()
	if !ok || old.FSID == (unix.Fsid{}) || old.FSID == now.FSID {
		t.Fatalf("recorded %+v (ok %v), mounted now %+v: want distinct f_fsids", old, ok, now)
	}

	// The shell moves to the new mount, and the old one is freed. Had the
	// kernel given the new overlay the old one's number, the record would
	// name the new mount's device: write that, keeping the old f_fsid.
	sh("cd " + w.Target())
	must(t, recordDetached(ds[0].Dir, overlayID{Dev: now.Dev, FSID: old.FSID}))
	ds, err = w.DetachedUppers()
	must(t, err)
	if len(ds) != 1 || ds[0].InUse() {
		t.Fatalf("detached uppers = %+v; a process on another overlay with the same device number keeps it", ds)
	}

	// A record of older strata, the device number alone, still counts it.
	must(t, os.WriteFile(filepath.Join(ds[0].Dir, "dev"), []byte(fmt.Sprintln(now.Dev)), 0o600))
	ds, err = w.DetachedUppers()
	must(t, err)
	if len(ds) != 1 || len(ds[0].Procs) != 1 {
		t.Fatalf("detached uppers = %+v; a device-only record must count the shell", ds)
	}
}
