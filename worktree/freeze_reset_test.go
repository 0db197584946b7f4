package worktree

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
	var wrote error
	var out []byte
	w.beforeMount = func(upper string) {
		if filepath.Base(upper) == "upper.next" {
			out, wrote = exec.Command("sh", "-c", `echo late > "$1"/late.log`, "sh", root).CombinedOutput()
		}
	}
	t.Cleanup(func() { w.beforeMount = nil })
	if _, err := w.Reset(context.Background(), "HEAD", ResetHard); err != nil {
		t.Fatalf("reset --hard: %v", err)
	}
	b, err := os.ReadFile(root + "/late.log")
	if wrote == nil && (err != nil || string(b) != "late\n") {
		t.Fatalf("an excluded file written during reset --hard was lost: %q, %v", b, err)
	}
	if wrote != nil && !strings.Contains(string(out), "Read-only file system") {
		t.Errorf("the write during the reset failed otherwise: %v: %s", wrote, out)
	}
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
