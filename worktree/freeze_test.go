package worktree

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteDuringSwitchNotLost: a process that writes into the view
// after a switch read the changes, before the new mount takes the view's
// place, is told its write failed (the view is read-only then); before,
// the write succeeded into the old upper and went with it. The writer is
// a real process, run from the hook that tests have at the mount (a
// stand-in for one that comes at that moment), on a staged carry and on
// a clean tree's switch.
func TestWriteDuringSwitchNotLost(t *testing.T) {
	for _, dirty := range []bool{true, false} {
		t.Run(map[bool]string{true: "staged carry", false: "clean"}[dirty], func(t *testing.T) {
			var w *Worktree
			if dirty {
				w, _ = stackedCarrySetup(t)
			} else {
				_, _, w = carrySetup(t, func(dir string) {
					must(t, os.MkdirAll(dir+"/etc", 0o755))
					must(t, write(dir+"/etc/motd", "hello\n"))
				})
			}
			writeDuringSwap(t, w, "the switch", "late.txt", func() error {
				_, err := w.Checkout(context.Background(), CheckoutOptions{Rev: "new"})
				return err
			})
			checkThawed(t, w)
		})
	}
}

// writeDuringSwap runs op (what: "the switch") with a real process
// writing name into the view from the hook at the fresh upper's mount,
// the moment a frozen view guards, and checks that the write was kept or
// refused as read-only: never taken and then lost with the old upper.
func writeDuringSwap(t *testing.T, w *Worktree, what, name string, op func() error) {
	t.Helper()
	root := w.Target()
	var wrote error
	var out []byte
	w.beforeMount = func(upper string) {
		if filepath.Base(upper) == "upper.next" {
			out, wrote = exec.Command("sh", "-c", `echo late > "$1/$2"`, "sh", root, name).CombinedOutput()
		}
	}
	defer func() { w.beforeMount = nil }()
	if err := op(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	b, err := os.ReadFile(filepath.Join(root, name))
	if wrote == nil && (err != nil || string(b) != "late\n") {
		t.Fatalf("a write made during %s succeeded and was lost: %q, %v", what, b, err)
	}
	if wrote != nil && !strings.Contains(string(out), "Read-only file system") {
		t.Errorf("the write during %s failed otherwise: %v: %s", what, wrote, out)
	}
}

// checkThawed checks that the view takes writes and that no marker of a
// frozen view is left.
func checkThawed(t *testing.T, w *Worktree) {
	t.Helper()
	checkThawedWriting(t, w, "/after.txt")
}

// checkThawedWriting is checkThawed writing the file name (one the
// tree excludes leaves it clean).
func checkThawedWriting(t *testing.T, w *Worktree, name string) {
	t.Helper()
	if err := write(w.Target()+name, "after\n"); err != nil {
		t.Errorf("the view after the swap: %v", err)
	}
	if _, err := os.Lstat(w.frozenMarker()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s left behind: %v", w.frozenMarker(), err)
	}
}

// TestRefusedSwitchThaws: a switch refused for a clash leaves the view
// writable.
func TestRefusedSwitchThaws(t *testing.T) {
	w, _ := stackedCarrySetup(t)
	must(t, write(w.Target()+"/etc/motd", "mine\n"))
	_, err := w.Checkout(context.Background(), CheckoutOptions{Rev: "new"})
	if !errors.Is(err, ErrDirty) {
		t.Fatalf("switch over a clash: %v", err)
	}
	checkThawed(t, w)
}

// TestKilledFrozenSwitch: a switch killed while the view is read-only,
// before HEAD moved or after, leaves the next command to make it
// writable again, the changes all there.
func TestKilledFrozenSwitch(t *testing.T) {
	for _, point := range []string{"checkout-carry-staged", "checkout-after-ref", "switch-mounted"} {
		t.Run(point, func(t *testing.T) {
			w, want := stackedCarrySetup(t)
			if point != "checkout-carry-staged" {
				want = want[:4] // new never had /stacked.txt
			}
			killedHelper(t, w.Repo, point, "CHECKOUT_TEST_HELPER=checkout", "CHECKOUT_TEST_REV=new")
			if err := write(w.Target()+"/during.txt", "x\n"); err == nil && point != "switch-mounted" {
				t.Errorf("the view took a write while the killed switch had it frozen")
			}
			os.Remove(w.Target() + "/during.txt")
			if _, err := w.Status(context.Background()); err != nil {
				t.Fatal(err)
			}
			checkCarried(t, w, want, map[string]string{"/etc/hostname": "dirty\n", "/new.txt": "new\n", "/data/a": ""})
			checkThawed(t, w)
		})
	}
}

// TestSwitchWithFileOpenForWriting: a file open for writing in the view,
// here by this very process (which the in-use check passes over), keeps
// it from freezing, and the switch is refused: what is written through
// it later would go with the old upper. Before, the switch went on and
// the write was lost.
func TestSwitchWithFileOpenForWriting(t *testing.T) {
	w, _ := stackedCarrySetup(t)
	f, err := os.OpenFile(w.Target()+"/open.txt", os.O_CREATE|os.O_WRONLY, 0o644)
	must(t, err)
	defer f.Close()
	_, err = w.Checkout(context.Background(), CheckoutOptions{Rev: "new"})
	if _, werr := f.WriteString("written\n"); werr == nil && err == nil {
		if b, _ := os.ReadFile(w.Target() + "/open.txt"); string(b) != "written\n" {
			t.Fatalf("the switch went on, and a write through a file open in the view was lost: %q", b)
		}
	}
	if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "open for writing") {
		t.Fatalf("switch with a file open for writing in the view: %v", err)
	}
	must(t, f.Close())
	checkThawed(t, w)
	if _, err := w.Checkout(context.Background(), CheckoutOptions{Rev: "new"}); err != nil {
		t.Fatalf("switch once the file is closed: %v", err)
	}
	if b, err := os.ReadFile(w.Target() + "/open.txt"); err != nil || string(b) != "written\n" {
		t.Errorf("/open.txt after the switch: %q, %v", b, err)
	}
}
