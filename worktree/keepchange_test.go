package worktree

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
)

// TestResetKeepPastDirMtime: reset --keep keeps a new file in a
// directory whose only difference between HEAD and REV is its mtime (a
// file REV adds there moved it): a directory's mtime is no content,
// status does not show it, and git's reset --keep allows this.
func TestResetKeepPastDirMtime(t *testing.T) {
	ctx := context.Background()
	_, _, w := carrySetup(t, func(dir string) {
		must(t, os.MkdirAll(dir+"/etc", 0o755))
		must(t, write(dir+"/etc/motd", "hello\n"))
	})
	root := w.Target()
	must(t, write(root+"/etc/zz", "mine\n"))
	if _, err := w.Reset(ctx, "new", ResetKeep); err != nil {
		t.Fatalf("reset --keep past /etc's mtime: %v", err)
	}
	for p, want := range map[string]string{"/etc/zz": "mine\n", "/etc/motd": "hello\n"} {
		if b, err := os.ReadFile(root + p); err != nil || string(b) != want {
			t.Errorf("%s after reset --keep: %q, %v", p, b, err)
		}
	}
	st, err := w.Status(ctx)
	must(t, err)
	if got := changeLines(st); len(got) != 1 || got[0] != "A /etc/zz" {
		t.Errorf("status after reset --keep: %q", got)
	}
}

// TestResetKeepPastDirMode: a directory REV gives another mode is
// written over a new file in it, which stays; a directory REV turns
// into a file is still refused for the new file below it.
func TestResetKeepPastDirMode(t *testing.T) {
	ctx := context.Background()
	t.Run("mode", func(t *testing.T) {
		_, _, w := carrySetup(t, func(dir string) {
			must(t, os.Mkdir(dir+"/etc", 0o700))
			must(t, os.Chmod(dir+"/etc", 0o700))
		})
		root := w.Target()
		must(t, write(root+"/etc/zz", "mine\n"))
		if _, err := w.Reset(ctx, "new", ResetKeep); err != nil {
			t.Fatalf("reset --keep past /etc's mode: %v", err)
		}
		if fi, err := os.Stat(root + "/etc"); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("/etc after reset --keep: %v, %v", fi.Mode(), err)
		}
		if b, err := os.ReadFile(root + "/etc/zz"); err != nil || string(b) != "mine\n" {
			t.Errorf("/etc/zz after reset --keep: %q, %v", b, err)
		}
	})
	t.Run("file", func(t *testing.T) {
		_, _, w := carrySetup(t, func(dir string) {
			must(t, os.MkdirAll(dir+"/data", 0o755))
			must(t, write(dir+"/data/sub", "now a file\n"))
		})
		root := w.Target()
		must(t, write(root+"/data/sub/zz", "mine\n"))
		_, err := w.Reset(ctx, "new", ResetKeep)
		if !errors.Is(err, ErrDirty) || !strings.Contains(err.Error(), ": A /data/sub/zz;") {
			t.Fatalf("reset --keep with a new file where REV has a file above it: %v", err)
		}
	})
}

// TestResetKeepDeletedBothSides: a file deleted in the work tree that REV
// deletes too is no clash, as git's reset --keep carries it; one that REV
// changes instead still refuses.
func TestResetKeepDeletedBothSides(t *testing.T) {
	ctx := context.Background()
	r, _, w := carrySetup(t, func(dir string) {
		must(t, os.MkdirAll(dir+"/etc", 0o755))
		must(t, write(dir+"/etc/hostname", "other\n"))
	})
	root := w.Target()
	must(t, os.Remove(root+"/etc/hostname"))
	_, err := w.Reset(ctx, "new", ResetKeep)
	if !errors.Is(err, ErrDirty) || !strings.Contains(err.Error(), ": D /etc/hostname;") {
		t.Fatalf("reset --keep over a deletion of a file REV changes: %v", err)
	}
	if _, err := w.Restore(ctx, "", []string{"/etc/hostname"}); err != nil {
		t.Fatal(err)
	}
	// gone: a commit without /data/a, which the work tree deletes too.
	must(t, os.Remove(root+"/data/a"))
	gone, _, err := w.Commit(ctx, CommitOptions{Message: "gone"})
	must(t, err)
	must(t, r.Refs.Update("refs/heads/gone", gone.ID, "", "test"))
	if _, err := w.Reset(ctx, "HEAD~1", ResetHard); err != nil {
		t.Fatal(err)
	}
	must(t, os.Remove(root+"/data/a"))
	must(t, write(root+"/etc/zz", "mine\n"))
	if _, err := w.Reset(ctx, "gone", ResetKeep); err != nil {
		t.Fatalf("reset --keep over a deletion REV has too: %v", err)
	}
	st, err := w.Status(ctx)
	must(t, err)
	if got := changeLines(st); !slices.Equal(got, []string{"A /etc/zz"}) {
		t.Errorf("status after reset --keep: %q", got)
	}
	if _, err := os.Lstat(root + "/data/a"); !os.IsNotExist(err) {
		t.Errorf("/data/a after reset --keep: %v", err)
	}
}
