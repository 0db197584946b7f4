package worktree

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestWriteDuringHardResetNotLost: reset --hard drops the changes but
// keeps the excluded paths, copied out of the old upper into the fresh
// one before it is mounted. A real process that writes an excluded file
// in between (run from the mount hook) is told its write failed; before,
// it succeeded into the old upper, which went to the trash, though
// reset --hard never drops an excluded file.
func TestWriteDuringHardResetNotLost(t *testing.T) {
	w := stashSetup(t)
	root := w.Target()
	must(t, write(filepath.Join(w.Repo.Root, "info", "exclude"), "*.log\n"))
	must(t, write(root+"/kept.log", "kept\n"))
	writeDuringSwap(t, w, "reset --hard", "late.log", func() error {
		_, err := w.Reset(context.Background(), "HEAD", ResetHard)
		return err
	})
	if b, err := os.ReadFile(root + "/kept.log"); err != nil || string(b) != "kept\n" {
		t.Errorf("/kept.log after reset --hard: %q, %v", b, err)
	}
	if b, _ := os.ReadFile(root + "/etc/hostname"); string(b) == "dirty\n" {
		t.Errorf("reset --hard kept the change to /etc/hostname")
	}
	checkThawed(t, w)
}

// TestKilledFrozenHardReset: reset --hard killed while its switch has the
// view read-only, the fresh upper prepared, leaves the next command to
// finish the switch and make the view writable; the excluded file is
// kept and the change dropped.
func TestKilledFrozenHardReset(t *testing.T) {
	w := stashSetup(t)
	root := w.Target()
	must(t, write(filepath.Join(w.Repo.Root, "info", "exclude"), "*.log\n"))
	must(t, write(root+"/kept.log", "kept\n"))
	killedHelper(t, w.Repo, "switch-prepared", "CHECKOUT_TEST_HELPER=hard", "CHECKOUT_TEST_REV=HEAD")
	if err := write(root+"/during.log", "x\n"); err == nil {
		t.Errorf("the view took a write while the killed reset had it frozen")
	}
	if _, err := w.Status(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkThawed(t, w)
	if b, err := os.ReadFile(root + "/kept.log"); err != nil || string(b) != "kept\n" {
		t.Errorf("/kept.log after the killed reset --hard: %q, %v", b, err)
	}
	if b, _ := os.ReadFile(root + "/etc/hostname"); string(b) == "dirty\n" {
		t.Errorf("the killed reset --hard kept the change to /etc/hostname")
	}
}
