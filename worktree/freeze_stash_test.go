package worktree

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/strata-sh/strata/refs"
)

// stashSetup is a checked-out tree with a change to stash.
func stashSetup(t *testing.T) *Worktree {
	t.Helper()
	_, _, w := carrySetup(t, func(dir string) {
		must(t, os.MkdirAll(dir+"/etc", 0o755))
		must(t, write(dir+"/etc/motd", "hello\n"))
	})
	must(t, write(w.Target()+"/etc/hostname", "dirty\n"))
	return w
}

// TestWriteDuringStashNotLost: a whole-tree stash reads the changes into
// its commit, then mounts HEAD with a fresh upper; a real process that
// writes into the view in between (run from the mount hook) is told its
// write failed. Before, it succeeded into the old upper and was in
// neither the stash nor the tree.
func TestWriteDuringStashNotLost(t *testing.T) {
	w := stashSetup(t)
	writeDuringSwap(t, w, "the stash", "late.txt", func() error {
		_, err := w.Stash(context.Background(), "", nil, false)
		return err
	})
	checkThawed(t, w)
}

// TestStashWithFileOpenForWriting: a file open for writing in the view
// (by this process, which the in-use check passes over) keeps it from
// freezing: the stash is refused, the change and the file left as they
// were. Before, the stash went on and a write through it was lost.
func TestStashWithFileOpenForWriting(t *testing.T) {
	w := stashSetup(t)
	f, err := os.OpenFile(w.Target()+"/open.txt", os.O_CREATE|os.O_WRONLY, 0o644)
	must(t, err)
	defer f.Close()
	_, err = w.Stash(context.Background(), "", nil, false)
	if _, werr := f.WriteString("written\n"); werr == nil && err == nil {
		if b, _ := os.ReadFile(w.Target() + "/open.txt"); string(b) != "written\n" {
			t.Fatalf("the stash went on, and a write through a file open in the view was lost: %q", b)
		}
	}
	if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "open for writing") {
		t.Fatalf("stash with a file open for writing in the view: %v", err)
	}
	must(t, f.Close())
	checkThawed(t, w)
	if b, err := os.ReadFile(w.Target() + "/etc/hostname"); err != nil || string(b) != "dirty\n" {
		t.Errorf("/etc/hostname after the refused stash: %q, %v", b, err)
	}
}

// TestKilledFrozenStash: a stash killed while the view is read-only
// leaves the next command to make it writable again; the change is
// saved, and in the tree as well when the kill came before the mount.
func TestKilledFrozenStash(t *testing.T) {
	for _, point := range []string{"stash-saved", "switch-mounted"} {
		t.Run(point, func(t *testing.T) {
			w := stashSetup(t)
			killedHelper(t, w.Repo, point, "CHECKOUT_TEST_HELPER=stash")
			if err := write(w.Target()+"/during.txt", "x\n"); err == nil && point == "stash-saved" {
				t.Errorf("the view took a write while the killed stash had it frozen")
			}
			os.Remove(w.Target() + "/during.txt")
			if _, err := w.Status(context.Background()); err != nil {
				t.Fatal(err)
			}
			checkThawed(t, w)
			if _, err := w.Repo.Refs.Read(refs.Stash); err != nil {
				t.Fatalf("the killed stash saved nothing: %v", err)
			}
			b, err := os.ReadFile(w.Target() + "/etc/hostname")
			if point == "stash-saved" && (err != nil || string(b) != "dirty\n") {
				t.Errorf("/etc/hostname after a stash killed before its mount: %q, %v", b, err)
			}
		})
	}
}
