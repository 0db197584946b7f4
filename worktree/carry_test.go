package worktree

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/tree"
)

// carrySetup makes main the base tree and branch "new" the base with one
// more layer, made by mk in a plain directory, and checks out main.
func carrySetup(t *testing.T, mk func(dir string)) (*repo.Repo, *objects.Commit, *Worktree) {
	t.Helper()
	requireRoot(t)
	r := newRepo(t)
	base := filepath.Join(t.TempDir(), "base")
	writeBase(t, base)
	old := commitDir(t, r, base, "base")
	top := filepath.Join(t.TempDir(), "top")
	must(t, os.MkdirAll(top, 0o755))
	mk(top)
	nu := commitDir(t, r, top, "new")
	must(t, r.Refs.Update("refs/heads/new", nu.ID, "", "test"))
	must(t, r.Refs.Update("refs/heads/main", old.ID, nu.ID, "test"))
	return r, nu, checkoutMain(t, r, "main")
}

// refusedUnchanged checks that a switch to "new" is refused naming only
// want, and that HEAD, the mount and the changes stay as they were.
func refusedUnchanged(t *testing.T, w *Worktree, want []string) {
	t.Helper()
	ctx := context.Background()
	before, err := w.Status(ctx)
	must(t, err)
	h0, err := w.Head()
	must(t, err)
	_, err = w.Checkout(ctx, CheckoutOptions{Rev: "new"})
	var de *DirtyError
	if !errors.As(err, &de) || !de.Overwritten {
		t.Fatalf("switch over a clash: %v", err)
	}
	if got := changeLines(de.Changes); !slices.Equal(got, want) {
		t.Errorf("refusal names %q, want %q", got, want)
	}
	h, err := w.Head()
	must(t, err)
	if h != h0 {
		t.Errorf("refused switch moved HEAD: %+v", h)
	}
	after, err := w.Status(ctx)
	must(t, err)
	if !slices.Equal(changeLines(before), changeLines(after)) {
		t.Errorf("refused switch changed status: %q, then %q", changeLines(before), changeLines(after))
	}
}

// TestSwitchCarriesChanges: changes away from what differs between the
// two commits are carried, as git's checkout carries them: status shows
// the same list, the files hold the same content, the new commit's files
// show, and a commit records the changes on top of the new commit.
func TestSwitchCarriesChanges(t *testing.T) {
	ctx := context.Background()
	_, nu, w := carrySetup(t, func(dir string) {
		// /etc gets a new file: its mtime differs, nothing else.
		must(t, os.MkdirAll(dir+"/etc", 0o755))
		must(t, write(dir+"/etc/motd", "hello\n"))
	})
	root := w.Target()
	must(t, write(root+"/etc/hostname", "dirty\n"))
	must(t, write(root+"/new.txt", "new\n"))
	must(t, os.Remove(root+"/data/a"))
	before, err := w.Status(ctx)
	must(t, err)
	if _, err := w.Checkout(ctx, CheckoutOptions{Rev: "new"}); err != nil {
		t.Fatalf("switch with changes that do not clash: %v", err)
	}
	after, err := w.Status(ctx)
	must(t, err)
	if !slices.Equal(changeLines(before), changeLines(after)) || len(after) != 3 {
		t.Errorf("status: %q before the switch, %q after", changeLines(before), changeLines(after))
	}
	for p, want := range map[string]string{"/etc/hostname": "dirty\n", "/new.txt": "new\n", "/etc/motd": "hello\n"} {
		if b, err := os.ReadFile(root + p); err != nil || string(b) != want {
			t.Errorf("%s after the switch: %q, %v", p, b, err)
		}
	}
	if _, err := os.Lstat(root + "/data/a"); !os.IsNotExist(err) {
		t.Errorf("/data/a after the switch: %v", err)
	}
	c, _, err := w.Commit(ctx, CommitOptions{Message: "carried"})
	must(t, err)
	if c.Parent() != nu.ID {
		t.Errorf("commit's parent %s, want %s", c.Parent(), nu.ID)
	}
	got, err := tree.DiffRevisions(w.trees, nu, c, nil)
	must(t, err)
	if !slices.Equal(changeLines(got), changeLines(before)) {
		t.Errorf("the commit records %q, want %q", changeLines(got), changeLines(before))
	}
}

// TestSwitchRefusesOverwrite: a change at a path the switch changes is
// refused, naming it alone.
func TestSwitchRefusesOverwrite(t *testing.T) {
	_, _, w := carrySetup(t, func(dir string) {
		must(t, os.MkdirAll(dir+"/etc", 0o755))
		must(t, write(dir+"/etc/hostname", "other\n"))
	})
	must(t, write(w.Target()+"/etc/hostname", "dirty\n"))
	must(t, write(w.Target()+"/new.txt", "new\n"))
	refusedUnchanged(t, w, []string{"M /etc/hostname"})
}

// TestSwitchRefusesUnderOpaqueDir: a directory the user replaced is
// opaque in the upper and would hide what the new commit adds below it,
// though no changed path is one the switch changes.
func TestSwitchRefusesUnderOpaqueDir(t *testing.T) {
	_, _, w := carrySetup(t, func(dir string) {
		must(t, os.MkdirAll(dir+"/data/sub", 0o755))
		must(t, write(dir+"/data/sub/added", "added\n"))
	})
	root := w.Target()
	must(t, os.RemoveAll(root+"/data/sub"))
	must(t, os.Mkdir(root+"/data/sub", 0o755))
	must(t, write(root+"/data/sub/f", "f\n"))
	must(t, write(root+"/new.txt", "new\n"))
	refusedUnchanged(t, w, []string{"D /data/sub/c", "A /data/sub/f"})
}

// TestSwitchCarriesUnderChangedDir: a directory copied up above a
// change keeps the old commit's mode; where the new commit changes that
// mode, the carry's copy of it takes the new mode, as git (which keeps
// no directories) carries the change. A mode the user gave it is a
// change of its own, which the switch would overwrite: refused.
func TestSwitchCarriesUnderChangedDir(t *testing.T) {
	mk := func(dir string) {
		must(t, os.Mkdir(dir+"/etc", 0o700))
		must(t, os.Chmod(dir+"/etc", 0o700))
	}
	t.Run("carried", func(t *testing.T) {
		_, _, w := carrySetup(t, mk)
		root := w.Target()
		must(t, write(root+"/etc/hostname", "dirty\n"))
		must(t, write(root+"/new.txt", "new\n"))
		if _, err := w.Checkout(context.Background(), CheckoutOptions{Rev: "new"}); err != nil {
			t.Fatalf("switch with a change below a directory whose mode changes: %v", err)
		}
		checkCarried(t, w, []string{"M /etc/hostname", "A /new.txt"}, map[string]string{"/etc/hostname": "dirty\n", "/new.txt": "new\n"})
		if fi, err := os.Stat(root + "/etc"); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("/etc after the switch: %v, %v", fi.Mode(), err)
		}
	})
	t.Run("own mode", func(t *testing.T) {
		_, _, w := carrySetup(t, mk)
		must(t, os.Chmod(w.Target()+"/etc", 0o750))
		must(t, write(w.Target()+"/etc/hostname", "dirty\n"))
		refusedUnchanged(t, w, []string{"M /etc", "M /etc/hostname"})
	})
}

// TestKilledCarryingSwitch: a checkout killed once HEAD moved is finished
// by the next command with the same upper, its changes carried.
func TestKilledCarryingSwitch(t *testing.T) {
	ctx := context.Background()
	r, nu, w := carrySetup(t, func(dir string) {
		must(t, os.MkdirAll(dir+"/etc", 0o755))
		must(t, write(dir+"/etc/motd", "hello\n"))
	})
	must(t, write(w.Target()+"/etc/hostname", "dirty\n"))
	must(t, os.Remove(w.Target()+"/data/a"))
	before, err := w.Status(ctx)
	must(t, err)
	killedHelper(t, r, "checkout-after-ref", "CHECKOUT_TEST_HELPER=checkout", "CHECKOUT_TEST_REV=new")
	after, err := w.Status(ctx) // finishes the switch
	must(t, err)
	if h, err := w.Head(); err != nil || h.Commit != nu.ID {
		t.Fatalf("HEAD after the kill: %+v, %v", h, err)
	}
	if !slices.Equal(changeLines(before), changeLines(after)) {
		t.Errorf("status: %q before the switch, %q after", changeLines(before), changeLines(after))
	}
	for p, want := range map[string]string{"/etc/hostname": "dirty\n", "/etc/motd": "hello\n"} {
		if b, err := os.ReadFile(w.Target() + p); err != nil || string(b) != want {
			t.Errorf("%s after the switch: %q, %v", p, b, err)
		}
	}
}
