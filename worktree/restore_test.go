package worktree

import (
	"context"
	"errors"
	"os"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// TestRestore: restore writes a revision's entries back whole (content,
// mode, xattrs), leaves the directories above them and the
// work tree's other files alone, and refuses a path the revision lacks
// before writing anything.
func TestRestore(t *testing.T) {
	ctx := context.Background()
	_, _, w := checkedOutBase(t)
	root := w.Target()
	must(t, write(root+"/etc/passwd", "changed\n"))
	must(t, os.Remove(root+"/etc/group"))
	must(t, os.Chmod(root+"/etc", 0o700))
	must(t, unix.Lsetxattr(root+"/x", "user.k", []byte("other"), 0))
	must(t, os.Remove(root+"/h2"))
	must(t, write(root+"/data/new", "kept\n"))

	if _, err := w.Restore(ctx, "HEAD", []string{"/etc/passwd", "/nosuch"}); !errors.Is(err, ErrNotInRevision) {
		t.Fatalf("restore of a missing path: %v, want ErrNotInRevision", err)
	}
	if b, _ := os.ReadFile(root + "/etc/passwd"); string(b) != "changed\n" {
		t.Fatalf("a refused restore wrote /etc/passwd: %q", b)
	}
	n, err := w.Restore(ctx, "HEAD", []string{"/etc/passwd", "/etc/group", "/x", "/h2"})
	must(t, err)
	if n != 4 {
		t.Fatalf("restore counted %d paths, want 4", n)
	}
	cs, err := w.Status(ctx)
	must(t, err)
	if got, want := changeLines(cs), []string{"A /data/new", "M /etc"}; !slices.Equal(got, want) {
		t.Fatalf("status after restoring the files: %v, want %v (the directory above and the new file kept)", got, want)
	}
	// h1 is not restored, so h2 comes back as a copy of their content;
	// equal to the lower's, it is no change, and the layers keep the link.
	if b, err := os.ReadFile(root + "/h2"); err != nil || string(b) != "linked\n" {
		t.Fatalf("h2 after restore: %q, %v", b, err)
	}
	if _, err := w.Restore(ctx, "HEAD", []string{"/etc", "/data"}); err != nil {
		t.Fatal(err)
	}
	cs, err = w.Status(ctx)
	must(t, err)
	if got, want := changeLines(cs), []string{"A /data/new"}; !slices.Equal(got, want) {
		t.Fatalf("status after restoring the directories: %v, want %v", got, want)
	}
}

// TestRestoreStaysInWorkTree: a symlink the work tree holds where the
// revision has a directory cannot send restore's writes to the host: as
// git does, restore makes it the revision's directory again.
func TestRestoreStaysInWorkTree(t *testing.T) {
	ctx := context.Background()
	_, _, w := checkedOutBase(t)
	outside := t.TempDir()
	must(t, os.RemoveAll(w.Target()+"/data"))
	must(t, os.Symlink(outside, w.Target()+"/data"))
	if _, err := w.Restore(ctx, "HEAD", []string{"/data/a"}); err != nil {
		t.Fatal(err)
	}
	if names, _ := os.ReadDir(outside); len(names) != 0 {
		t.Fatalf("restore wrote outside the work tree: %v", names)
	}
	var st unix.Stat_t
	must(t, unix.Lstat(w.Target()+"/data", &st))
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		t.Fatalf("/data is still not a directory: mode %o", st.Mode)
	}
	if b, err := os.ReadFile(w.Target() + "/data/a"); err != nil || string(b) != "a\n" {
		t.Fatalf("/data/a after restore: %q, %v", b, err)
	}
}
