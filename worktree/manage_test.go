package worktree

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// fsImmutable is FS_IMMUTABLE_FL (linux/fs.h), which x/sys/unix lacks.
const fsImmutable = 0x10

// TestRemoveIsWholeOrNothing: worktree remove deleted .strata/worktrees/NAME
// in place, so a delete that failed (or a command killed) half-way left a
// state over half an upper, or an upper with no state. The directory is
// now renamed away in one step first: the tree is gone whole, and what
// could not be deleted is left in .strata/tmp for gc. An immutable file
// in the upper stands for the delete that fails half-way.
func TestRemoveIsWholeOrNothing(t *testing.T) {
	ctx := context.Background()
	r, _, _ := checkedOutBase(t)
	w, err := ForPath(r, filepath.Join(t.TempDir(), "wt"))
	must(t, err)
	unmountAll(t, w.Target())
	_, err = w.Checkout(ctx, CheckoutOptions{Rev: "main", Detach: true})
	must(t, err)
	must(t, os.WriteFile(filepath.Join(w.Target(), "stuck"), []byte("x"), 0o644))
	must(t, w.Umount())
	f, err := os.Open(filepath.Join(w.Dir, "upper", "stuck"))
	must(t, err)
	t.Cleanup(func() { f.Close() }) // after the flag is cleared: cleanups run last first
	flags, err := unix.IoctlGetInt(int(f.Fd()), unix.FS_IOC_GETFLAGS)
	if errors.Is(err, unix.ENOTTY) || errors.Is(err, unix.EOPNOTSUPP) {
		t.Skipf("%s: no inode flags on this file system", w.Dir)
	}
	must(t, err)
	must(t, unix.IoctlSetPointerInt(int(f.Fd()), unix.FS_IOC_SETFLAGS, flags|fsImmutable))
	t.Cleanup(func() { unix.IoctlSetPointerInt(int(f.Fd()), unix.FS_IOC_SETFLAGS, flags) })

	if err := w.Remove(ctx, 1); err != nil {
		t.Fatalf("remove: %v", err)
	}
	if _, err := os.Lstat(w.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s still there: %v", w.Dir, err)
	}
	all, err := List(r)
	must(t, err)
	for _, o := range all {
		if o.Name == w.Name {
			t.Fatalf("work tree %s still listed", w.Name)
		}
	}
}
