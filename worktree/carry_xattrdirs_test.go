package worktree

import (
	"context"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// TestSwitchCarriesUnderXattrDir: a directory above a change whose
// xattrs the new commit changes takes the new commit's xattrs (and
// mode) in the carry's copy, and the change is carried, as git (which
// keeps no directories) carries it; back again, the old xattrs come back
// exactly. xattrs the user gave it are a change of their own: refused.
func TestSwitchCarriesUnderXattrDir(t *testing.T) {
	mk := func(dir string) {
		must(t, os.Mkdir(dir+"/etc", 0o750))
		must(t, os.Chmod(dir+"/etc", 0o750))
		must(t, unix.Lsetxattr(dir+"/etc", "user.label", []byte("new"), 0))
	}
	for _, stacked := range []bool{false, true} {
		t.Run(map[bool]string{false: "carried", true: "carried stacked"}[stacked], func(t *testing.T) {
			ctx := context.Background()
			_, _, w := carrySetup(t, mk)
			if stacked {
				stackOnMount(t, w)
			}
			root := w.Target()
			must(t, write(root+"/etc/hostname", "dirty\n"))
			if _, err := w.Checkout(ctx, CheckoutOptions{Rev: "new"}); err != nil {
				t.Fatalf("switch with a change below a directory whose xattrs change: %v", err)
			}
			checkCarried(t, w, []string{"M /etc/hostname"}, map[string]string{"/etc/hostname": "dirty\n"})
			buf := make([]byte, 64)
			if n, err := unix.Lgetxattr(root+"/etc", "user.label", buf); err != nil || string(buf[:n]) != "new" {
				t.Errorf("/etc's user.label after the switch: %q, %v", buf[:max(n, 0)], err)
			}
			if fi, err := os.Stat(root + "/etc"); err != nil || fi.Mode().Perm() != 0o750 {
				t.Errorf("/etc after the switch: %v, %v", fi.Mode(), err)
			}
			if _, err := w.Checkout(ctx, CheckoutOptions{Rev: "main"}); err != nil {
				t.Fatalf("switch back: %v", err)
			}
			checkCarried(t, w, []string{"M /etc/hostname"}, map[string]string{"/etc/hostname": "dirty\n"})
			if _, err := unix.Lgetxattr(root+"/etc", "user.label", buf); err != unix.ENODATA {
				t.Errorf("/etc's user.label back on main: %v, want none", err)
			}
		})
	}
	t.Run("own xattrs", func(t *testing.T) {
		_, _, w := carrySetup(t, mk)
		must(t, unix.Lsetxattr(w.Target()+"/etc", "user.mine", []byte("x"), 0))
		must(t, write(w.Target()+"/etc/hostname", "dirty\n"))
		refusedUnchanged(t, w, []string{"M /etc", "M /etc/hostname"})
	})
}
