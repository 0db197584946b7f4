package worktree

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// stackedCarrySetup makes "new" the base plus /etc/motd, checks out main
// (the base), commits /stacked.txt there (the mount stays: stacked), and
// makes the uncommitted changes want lists.
func stackedCarrySetup(t *testing.T) (*Worktree, []string) {
	t.Helper()
	ctx := context.Background()
	_, _, w := carrySetup(t, func(dir string) {
		must(t, os.MkdirAll(dir+"/etc", 0o755))
		must(t, write(dir+"/etc/motd", "hello\n"))
	})
	root := w.Target()
	must(t, write(root+"/stacked.txt", "committed\n"))
	must(t, write(root+"/etc/passwd", "committed\n"))
	if _, _, err := w.Commit(ctx, CommitOptions{Message: "stacked"}); err != nil {
		t.Fatal(err)
	}
	if st, _, err := w.State(); err != nil || !st.Stacked {
		t.Fatalf("the commit did not stack on the mount: %+v, %v", st, err)
	}
	must(t, write(root+"/etc/hostname", "dirty\n"))
	must(t, write(root+"/new.txt", "new\n"))
	// What the copy must keep: mode, owner, xattrs, links, mtime.
	must(t, os.Chmod(root+"/new.txt", 0o751))
	must(t, os.Lchown(root+"/new.txt", 12, 34))
	must(t, unix.Lsetxattr(root+"/new.txt", "user.carried", []byte("yes"), 0))
	must(t, os.Link(root+"/new.txt", root+"/new-link"))
	must(t, os.Remove(root+"/data/a"))
	must(t, os.Remove(root+"/stacked.txt"))
	return w, []string{"D /data/a", "M /etc/hostname", "A /new-link", "A /new.txt", "D /stacked.txt"}
}

// checkCarried checks that status lists want, and that the files show
// the uncommitted changes over the commit HEAD names.
func checkCarried(t *testing.T, w *Worktree, want []string, files map[string]string) {
	t.Helper()
	got, err := w.Status(context.Background())
	must(t, err)
	if !slices.Equal(changeLines(got), want) {
		t.Errorf("status after the switch: %q, want %q", changeLines(got), want)
	}
	for p, want := range files {
		b, err := os.ReadFile(w.Target() + p)
		if want == "" {
			if !os.IsNotExist(err) {
				t.Errorf("%s after the switch: %q, %v; want none", p, b, err)
			}
		} else if err != nil || string(b) != want {
			t.Errorf("%s after the switch: %q, %v; want %q", p, b, err, want)
		}
	}
}

// TestSwitchCarriesAfterCommit: after a commit on the mount (its upper
// holds the committed files too), a switch carries the uncommitted
// changes alone, and back again.
func TestSwitchCarriesAfterCommit(t *testing.T) {
	ctx := context.Background()
	w, want := stackedCarrySetup(t)
	root := w.Target()
	before := describe(t, root)
	mtimes := map[string]time.Time{}
	for _, p := range []string{"/new.txt", "/etc/hostname"} {
		fi, err := os.Lstat(root + p)
		must(t, err)
		mtimes[p] = fi.ModTime()
	}
	if _, err := w.Checkout(ctx, CheckoutOptions{Rev: "new"}); err != nil {
		t.Fatalf("switch from a stacked mount: %v", err)
	}
	// /stacked.txt: new never had it; the carried deletion is no change.
	checkCarried(t, w, []string{"D /data/a", "M /etc/hostname", "A /new-link", "A /new.txt"}, map[string]string{
		"/etc/hostname": "dirty\n", "/new.txt": "new\n", "/etc/motd": "hello\n", "/data/a": "", "/stacked.txt": "",
	})
	after := describe(t, root)
	for _, p := range []string{"/new.txt", "/new-link", "/etc/hostname"} {
		if before[p] != after[p] {
			t.Errorf("%s: %s before the switch, %s after", p, before[p], after[p])
		}
	}
	for p, m := range mtimes {
		if fi, err := os.Lstat(root + p); err != nil || !fi.ModTime().Equal(m) {
			t.Errorf("%s: mtime %v before the switch, %v after (%v)", p, m, fi.ModTime(), err)
		}
	}
	if _, err := w.Checkout(ctx, CheckoutOptions{Rev: "main"}); err != nil {
		t.Fatalf("switch back: %v", err)
	}
	// The deletion of /stacked.txt was no change on new: as in git, the
	// file comes back with main.
	checkCarried(t, w, want[:4], map[string]string{"/etc/hostname": "dirty\n", "/etc/motd": "", "/stacked.txt": "committed\n"})
	if exists(w.carryDir()) {
		t.Errorf("%s left behind", w.carryDir())
	}
}

// TestSwitchRefusesAfterCommit: on a stacked mount, a change at a path
// the switch changes is refused naming it alone, and nothing is lost.
func TestSwitchRefusesAfterCommit(t *testing.T) {
	w, _ := stackedCarrySetup(t)
	must(t, write(w.Target()+"/etc/motd", "mine\n"))
	refusedUnchanged(t, w, []string{"A /etc/motd"})
	if exists(w.carryDir()) || exists(w.carryDir()+".tmp") {
		t.Errorf("a refused switch left its staged changes behind")
	}
}

// TestKilledStagedCarry: a switch from a stacked mount killed at each
// step loses nothing: the next command finishes it once HEAD moved, and
// forgets it before.
func TestKilledStagedCarry(t *testing.T) {
	for _, point := range []string{"checkout-carry-staged", "checkout-carry-pending", "checkout-after-ref", "switch-mounted", "switch-renamed"} {
		t.Run(point, func(t *testing.T) {
			w, want := stackedCarrySetup(t)
			h0, err := w.Head()
			must(t, err)
			killedHelper(t, w.Repo, point, "CHECKOUT_TEST_HELPER=checkout", "CHECKOUT_TEST_REV=new")
			after, err := w.Status(context.Background()) // finishes or forgets the switch
			must(t, err)
			h, err := w.Head()
			must(t, err)
			files := map[string]string{"/etc/hostname": "dirty\n", "/new.txt": "new\n", "/data/a": ""}
			if h.Commit == h0.Commit {
				if point != "checkout-carry-staged" && point != "checkout-carry-pending" {
					t.Fatalf("HEAD did not move before %s", point)
				}
				files["/etc/motd"] = ""
				checkCarried(t, w, want, files)
			} else {
				files["/etc/motd"] = "hello\n"
				checkCarried(t, w, []string{"D /data/a", "M /etc/hostname", "A /new-link", "A /new.txt"}, files)
			}
			_ = after
			for _, d := range []string{"upper.next", "work.next", "upper.carry", "upper.carry.tmp"} {
				if exists(filepath.Join(w.Dir, d)) {
					t.Errorf("%s left behind", d)
				}
			}
		})
	}
}

// TestSwitchDropsUnchangedCopy: a file written back to its committed
// bytes is no change, though the upper holds a copy: a switch that
// changes that file carries the rest, and shows the new commit's file.
func TestSwitchDropsUnchangedCopy(t *testing.T) {
	_, _, w := carrySetup(t, func(dir string) {
		must(t, os.MkdirAll(dir+"/etc", 0o755))
		must(t, write(dir+"/etc/hostname", "other\n"))
	})
	root := w.Target()
	fi, err := os.Stat(root + "/etc/hostname")
	must(t, err)
	must(t, write(root+"/etc/hostname", "dirty\n"))
	must(t, write(root+"/etc/hostname", "box\n"))
	must(t, os.Chtimes(root+"/etc/hostname", fi.ModTime(), fi.ModTime()))
	must(t, write(root+"/new.txt", "new\n"))
	if got, err := w.Status(context.Background()); err != nil || len(got) != 1 {
		t.Fatalf("status before the switch: %q, %v", changeLines(got), err)
	}
	if _, err := w.Checkout(context.Background(), CheckoutOptions{Rev: "new"}); err != nil {
		t.Fatalf("switch over a copy equal to the commit: %v", err)
	}
	checkCarried(t, w, []string{"A /new.txt"}, map[string]string{"/etc/hostname": "other\n", "/new.txt": "new\n"})
}

// TestSwitchOverwritesExcluded: an excluded file at a path the new
// commit has gives way to the commit's file, as git's checkout overwrites
// an ignored file; other excluded files (and the changes) are carried,
// whether the switch carries changes or the tree is clean.
func TestSwitchOverwritesExcluded(t *testing.T) {
	for _, dirty := range []bool{true, false} {
		t.Run(map[bool]string{true: "carrying", false: "clean"}[dirty], func(t *testing.T) {
			_, _, w := carrySetup(t, func(dir string) {
				must(t, os.MkdirAll(dir+"/etc", 0o755))
				must(t, write(dir+"/etc/a.log", "tracked\n"))
			})
			must(t, os.MkdirAll(filepath.Join(w.Repo.Root, "info"), 0o755))
			must(t, write(filepath.Join(w.Repo.Root, "info", "exclude"), "*.log\n"))
			root := w.Target()
			must(t, write(root+"/etc/a.log", "ignored\n"))
			must(t, write(root+"/b.log", "kept\n"))
			var want []string
			files := map[string]string{"/etc/a.log": "tracked\n", "/b.log": "kept\n", "/new.txt": ""}
			if dirty {
				must(t, write(root+"/new.txt", "new\n"))
				want, files["/new.txt"] = []string{"A /new.txt"}, "new\n"
			}
			if _, err := w.Checkout(context.Background(), CheckoutOptions{Rev: "new"}); err != nil {
				t.Fatalf("switch over an excluded file: %v", err)
			}
			checkCarried(t, w, want, files)
		})
	}
}

// TestWriteAfterKilledStagedCarry: a switch from a stacked mount killed
// once HEAD moved, before its mount took the view's place, leaves the
// view showing the old commit; what is written there before the next
// command is carried when that command finishes the switch, even at a
// path the switch changes (HEAD has moved: no refusal is left to make).
// Before, the next command mounted the changes staged before the kill,
// and the writes since went with the old upper.
// The next command, killed once its new copy replaced the old one, still
// leaves one for the command after it to finish from.
func TestWriteAfterKilledStagedCarry(t *testing.T) {
	for _, killedAgain := range []bool{false, true} {
		t.Run(map[bool]string{false: "finished", true: "killed again"}[killedAgain], func(t *testing.T) {
			testWriteAfterKilledStagedCarry(t, killedAgain)
		})
	}
}

func testWriteAfterKilledStagedCarry(t *testing.T, killedAgain bool) {
	w, _ := stackedCarrySetup(t)
	killedHelper(t, w.Repo, "checkout-after-ref", "CHECKOUT_TEST_HELPER=checkout", "CHECKOUT_TEST_REV=new")
	root := w.Target()
	// The killed switch left the view read-only (freezeView): no write
	// goes there until the next command. One who makes it writable by
	// hand writes into it, and the next command carries that too.
	if err := write(root+"/etc/hostname", "later\n"); !errors.Is(err, unix.EROFS) {
		t.Fatalf("a write into the view a killed switch froze: %v; want EROFS", err)
	}
	must(t, setReadOnly(root, false))
	must(t, write(root+"/etc/hostname", "later\n"))
	must(t, write(root+"/later.txt", "later\n"))
	must(t, write(root+"/etc/motd", "mine\n")) // new changes /etc/motd
	if killedAgain {
		killedHelper(t, w.Repo, "checkout-carry-restaged", "CHECKOUT_TEST_HELPER=checkout", "CHECKOUT_TEST_REV=new")
	}
	checkCarried(t, w, []string{"D /data/a", "M /etc/hostname", "M /etc/motd", "A /later.txt", "A /new-link", "A /new.txt"}, map[string]string{
		"/etc/hostname": "later\n", "/later.txt": "later\n", "/etc/motd": "mine\n", "/new.txt": "new\n",
	})
	if h, err := w.Head(); err != nil || h.Branch != "refs/heads/new" {
		t.Errorf("HEAD after the finished switch: %+v, %v", h, err)
	}
	for _, d := range []string{"upper.next", "work.next", "upper.carry", "upper.carry.tmp"} {
		if exists(filepath.Join(w.Dir, d)) {
			t.Errorf("%s left behind", d)
		}
	}
}
