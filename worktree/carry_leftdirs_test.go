package worktree

import (
	"context"
	"errors"
	"os"
	"slices"
	"testing"
)

// branchAt makes branch name the commit change makes on main's commit,
// and puts the work tree back on main, clean and unstacked.
func branchAt(t *testing.T, w *Worktree, name string, change func(root string)) {
	t.Helper()
	ctx := context.Background()
	change(w.Target())
	c, _, err := w.Commit(ctx, CommitOptions{Message: name})
	must(t, err)
	must(t, w.Repo.Refs.Update("refs/heads/"+name, c.ID, "", "test"))
	if _, err := w.Reset(ctx, "HEAD~1", ResetHard); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Checkout(ctx, CheckoutOptions{Rev: "main", Force: true}); err != nil {
		t.Fatal(err)
	}
}

// stackOnMount commits /stacked.txt on the mount, so that its upper holds
// a commit too and a switch copies the changes alone (a staged carry).
func stackOnMount(t *testing.T, w *Worktree) {
	t.Helper()
	must(t, write(w.Target()+"/stacked.txt", "committed\n"))
	if _, _, err := w.Commit(context.Background(), CommitOptions{Message: "stacked"}); err != nil {
		t.Fatal(err)
	}
	if st, _, err := w.State(); err != nil || !st.Stacked {
		t.Fatalf("the commit did not stack on the mount: %+v, %v", st, err)
	}
}

// switchOrKeep moves the work tree to rev keeping its changes: a
// checkout, or a reset --keep.
func switchOrKeep(w *Worktree, rev string, keep bool) error {
	ctx := context.Background()
	if keep {
		_, err := w.Reset(ctx, rev, ResetKeep)
		return err
	}
	_, err := w.Checkout(ctx, CheckoutOptions{Rev: rev})
	return err
}

// leftDirWays are the ways a switch carries changes, for a test to try
// each: the upper carried as it is, a copy of the changes from a mount
// with a commit stacked on it, and reset --keep, which writes REV's
// files through the mount.
var leftDirWays = []struct {
	name          string
	stacked, keep bool
}{{"plain", false, false}, {"stacked", true, false}, {"keep", false, true}}

// TestSwitchKeepsDirTheTargetDeletes: a new file in a directory the
// target deletes is carried, as git's checkout and reset --keep carry an
// untracked file there: the directory stays with the new file alone. A
// directory the user only deleted files in goes, as in git.
func TestSwitchKeepsDirTheTargetDeletes(t *testing.T) {
	for _, way := range leftDirWays {
		t.Run(way.name, func(t *testing.T) {
			_, _, w := checkedOutBase(t)
			branchAt(t, w, "gone", func(root string) {
				must(t, os.RemoveAll(root+"/data/sub"))
			})
			if way.stacked {
				stackOnMount(t, w)
			}
			root := w.Target()
			must(t, os.Mkdir(root+"/data/sub/new", 0o755))
			must(t, write(root+"/data/sub/new/z", "mine\n"))
			if err := switchOrKeep(w, "gone", way.keep); err != nil {
				t.Fatalf("switch with a new file in a directory the target deletes: %v", err)
			}
			checkCarried(t, w, []string{"A /data/sub", "A /data/sub/new", "A /data/sub/new/z"},
				map[string]string{"/data/sub/new/z": "mine\n", "/data/sub/c": ""})
			names, err := os.ReadDir(root + "/data/sub")
			if err != nil || len(names) != 1 {
				t.Errorf("/data/sub after the switch: %v, %v; want new alone", names, err)
			}
			// And back: main's /data/sub comes again, beside the new
			// directory, as git writes its files beside untracked ones.
			back := "main"
			if way.keep {
				back = "ORIG_HEAD"
			}
			if err := switchOrKeep(w, back, way.keep); err != nil {
				t.Fatalf("switch back: %v", err)
			}
			checkCarried(t, w, []string{"A /data/sub/new", "A /data/sub/new/z"},
				map[string]string{"/data/sub/new/z": "mine\n", "/data/sub/c": "c\n"})
		})
	}
	for _, way := range leftDirWays {
		t.Run(way.name+" deleted", func(t *testing.T) {
			_, _, w := checkedOutBase(t)
			branchAt(t, w, "gone", func(root string) {
				must(t, os.RemoveAll(root+"/data/sub"))
			})
			if way.stacked {
				stackOnMount(t, w)
			}
			root := w.Target()
			must(t, os.Remove(root+"/data/sub/c"))
			must(t, write(root+"/etc/hostname", "dirty\n"))
			if err := switchOrKeep(w, "gone", way.keep); err != nil {
				t.Fatalf("switch with a file deleted in a directory the target deletes: %v", err)
			}
			checkCarried(t, w, []string{"M /etc/hostname"}, map[string]string{"/etc/hostname": "dirty\n"})
			if _, err := os.Lstat(root + "/data/sub"); !os.IsNotExist(err) {
				t.Errorf("/data/sub after the switch: %v; want none, as git", err)
			}
		})
	}
}

// TestSwitchCarriesDirDeletedInPart: a directory the user deleted, where
// the target deletes only part of it, is carried, as git carries the
// deletions of its files; where the target adds a file to it, the switch
// is refused, as git refuses (the deletion would hide the file).
func TestSwitchCarriesDirDeletedInPart(t *testing.T) {
	for _, way := range leftDirWays {
		t.Run(way.name, func(t *testing.T) {
			_, _, w := checkedOutBase(t)
			branchAt(t, w, "part", func(root string) {
				must(t, os.Remove(root+"/data/a"))
				must(t, os.Chmod(root+"/data", 0o700))
			})
			branchAt(t, w, "adds", func(root string) {
				must(t, write(root+"/data/new", "theirs\n"))
			})
			if way.stacked {
				stackOnMount(t, w)
			}
			root := w.Target()
			must(t, os.RemoveAll(root+"/data"))
			before, err := w.Status(context.Background())
			must(t, err)
			err = switchOrKeep(w, "adds", way.keep)
			if !errors.Is(err, ErrDirty) {
				t.Fatalf("switch deleting a directory the target adds to: %v", err)
			}
			after, err := w.Status(context.Background())
			must(t, err)
			if !slices.Equal(changeLines(before), changeLines(after)) {
				t.Errorf("refused switch changed status: %q, then %q", changeLines(before), changeLines(after))
			}
			if err := switchOrKeep(w, "part", way.keep); err != nil {
				t.Fatalf("switch deleting a directory the target deletes in part: %v", err)
			}
			checkCarried(t, w, []string{"D /data", "D /data/b", "D /data/sub", "D /data/sub/c"},
				map[string]string{"/data/a": "", "/data/b": ""})
			if _, err := os.Lstat(root + "/data"); !os.IsNotExist(err) {
				t.Errorf("/data after the switch: %v; want none", err)
			}
		})
	}
}

// TestKilledKeepLeftDir: a reset --keep that keeps a directory REV
// deletes, killed once HEAD moved, before or after its write through the
// mount, is finished by the next command, the same.
func TestKilledKeepLeftDir(t *testing.T) {
	for _, point := range []string{"reset-after-ref", "reset-keep-moved"} {
		t.Run(point, func(t *testing.T) {
			_, _, w := checkedOutBase(t)
			branchAt(t, w, "gone", func(root string) {
				must(t, os.RemoveAll(root+"/data/sub"))
				must(t, os.Remove(root+"/data/a"))
			})
			root := w.Target()
			must(t, write(root+"/data/sub/z", "mine\n"))
			must(t, os.RemoveAll(root+"/data"+"/b"))
			killedHelper(t, w.Repo, point, "CHECKOUT_TEST_HELPER=keep", "CHECKOUT_TEST_REV=gone")
			checkCarried(t, w, []string{"D /data/b", "A /data/sub", "A /data/sub/z"},
				map[string]string{"/data/sub/z": "mine\n", "/data/sub/c": "", "/data/a": ""})
			if h, err := w.Head(); err != nil || h.Branch != "refs/heads/main" {
				t.Errorf("HEAD: %+v, %v", h, err)
			}
		})
	}
}
