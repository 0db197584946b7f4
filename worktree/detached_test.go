package worktree

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDetachedUppersPrunedWhenUnused: an upper kept for a mount detached
// by --force is listed with its size and its user, survives a prune while
// the shell inside lives, and is deleted by the first prune after it exits.
func TestDetachedUppersPrunedWhenUnused(t *testing.T) {
	ctx := context.Background()
	_, c1, w := checkedOutBase(t)
	must(t, write(w.Target()+"/etc/two", "two\n"))
	_, _, err := w.Commit(ctx, CommitOptions{Message: "two"})
	must(t, err)

	sh := shellIn(t, filepath.Join(w.Target(), "etc"))
	pid := strings.TrimSpace(sh("echo $$"))
	_, err = w.Checkout(ctx, CheckoutOptions{Rev: c1.ID.String(), Force: true})
	must(t, err)
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
