package worktree

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"golang.org/x/sys/unix"
)

// writeBase writes the tree every work-tree test starts from.
func writeBase(t testing.TB, dir string) {
	t.Helper()
	files := map[string]string{
		"etc/passwd": "root:x:0:0::/root:/bin/sh\n", "etc/group": "root:x:0:\n", "etc/hostname": "box\n",
		"data/a": "a\n", "data/b": "b\n", "data/sub/c": "c\n", "h1": "linked\n", "x": "xattr\n",
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, []byte(content), 0o644))
	}
	must(t, os.Link(filepath.Join(dir, "h1"), filepath.Join(dir, "h2")))
	must(t, os.Symlink("etc/passwd", filepath.Join(dir, "link")))
	must(t, unix.Lsetxattr(filepath.Join(dir, "x"), "user.k", []byte("v"), 0))
}

func write(p, s string) error { return os.WriteFile(p, []byte(s), 0o644) }

// TestWorkTreeOperations makes each change in a checkout and in a plain
// copy of the base tree, then checks status, commits, and compares the
// work tree and a fresh checkout of the commit with the plain copy.
func TestWorkTreeOperations(t *testing.T) {
	requireRoot(t)
	ops := []struct {
		name   string
		op     func(root string) error
		status []string
	}{
		{"create", func(r string) error { return write(r+"/new.txt", "new\n") }, []string{"A /new.txt"}},
		{"modify", func(r string) error { return write(r+"/etc/passwd", "changed\n") }, []string{"M /etc/passwd"}},
		{"delete", func(r string) error { return os.Remove(r + "/etc/group") }, []string{"D /etc/group"}},
		{"chmod", func(r string) error { return os.Chmod(r+"/etc/hostname", 0o600) }, []string{"M /etc/hostname"}},
		{"chown", func(r string) error { return os.Lchown(r+"/etc/hostname", 1000, 1000) }, []string{"M /etc/hostname"}},
		{"symlink retarget", func(r string) error {
			os.Remove(r + "/link")
			return os.Symlink("etc/group", r+"/link")
		}, []string{"M /link"}},
		{"hardlink", func(r string) error { return os.Link(r+"/etc/passwd", r+"/etc/passwd2") }, []string{"A /etc/passwd2"}},
		{"rename file", func(r string) error { return os.Rename(r+"/etc/hostname", r+"/etc/hostname2") },
			[]string{"D /etc/hostname", "A /etc/hostname2"}},
		{"rename dir", func(r string) error { return os.Rename(r+"/data", r+"/data2") },
			[]string{"D /data", "D /data/a", "D /data/b", "D /data/sub", "D /data/sub/c",
				"A /data2", "A /data2/a", "A /data2/b", "A /data2/sub", "A /data2/sub/c"}},
		{"dir to file", func(r string) error {
			os.RemoveAll(r + "/data")
			return write(r+"/data", "file now\n")
		}, []string{"T /data", "D /data/a", "D /data/b", "D /data/sub", "D /data/sub/c"}},
		{"file to dir", func(r string) error {
			os.Remove(r + "/etc/hostname")
			os.Mkdir(r+"/etc/hostname", 0o755)
			return write(r+"/etc/hostname/x", "x\n")
		}, []string{"T /etc/hostname", "A /etc/hostname/x"}},
		{"dir to file and back", func(r string) error {
			os.RemoveAll(r + "/data/sub")
			write(r+"/data/sub", "file\n")
			os.Remove(r + "/data/sub")
			os.Mkdir(r+"/data/sub", 0o755)
			return write(r+"/data/sub/c2", "c2\n")
		}, []string{"D /data/sub/c", "A /data/sub/c2"}},
		{"delete then recreate", func(r string) error {
			os.Remove(r + "/data/a")
			return write(r+"/data/a", "again\n")
		}, []string{"M /data/a"}},
		{"xattr", func(r string) error { return unix.Lsetxattr(r+"/x", "user.k", []byte("w"), 0) }, []string{"M /x"}},
		{"chmod dir", func(r string) error { return os.Chmod(r+"/data", 0o700) }, []string{"M /data"}},
	}
	for _, stacked := range []bool{false, true} {
		for _, tc := range ops {
			name := tc.name
			if stacked {
				name = "stacked/" + name
			}
			t.Run(name, func(t *testing.T) { testOperation(t, stacked, tc.op, tc.status) })
		}
	}
}

// testOperation runs one operation. stacked makes a commit on the same
// mount first: the operation's commit is then stacked on it.
func testOperation(t *testing.T, stacked bool, op func(string) error, status []string) {
	tc := struct {
		name   string
		op     func(root string) error
		status []string
	}{"op", op, status}
	ctx := context.Background()
	r := newRepo(t)
	base := filepath.Join(t.TempDir(), "base")
	writeBase(t, base)
	commitDir(t, r, base, "base")
	w := checkoutMain(t, r, "main")

	want := filepath.Join(t.TempDir(), "want")
	must(t, os.Mkdir(want, 0o755))
	copyTree(t, base, want)
	if stacked {
		for _, root := range []string{want, w.Target()} {
			must(t, write(root+"/prep", "prep\n"))
		}
		if _, _, err := w.Commit(ctx, CommitOptions{Message: "prep"}); err != nil {
			t.Fatal(err)
		}
	}
	must(t, tc.op(want))
	must(t, tc.op(w.Target()))

	cs, err := w.Status(ctx)
	must(t, err)
	if got := changeLines(cs); !reflect.DeepEqual(got, tc.status) {
		t.Fatalf("status: got %q, want %q", got, tc.status)
	}
	c, _, err := w.Commit(ctx, CommitOptions{Message: tc.name})
	must(t, err)
	cs, err = w.Status(ctx)
	must(t, err)
	if len(cs) != 0 {
		t.Errorf("status after commit: %q", changeLines(cs))
	}
	wantTree := describe(t, want)
	compareTrees(t, wantTree, describe(t, w.Target()))

	// A fresh checkout, from the blobs, elsewhere.
	must(t, os.RemoveAll(filepath.Join(r.Root, "snapshots")))
	w2, err := ForPath(r, filepath.Join(t.TempDir(), "env2"))
	must(t, err)
	unmountAll(t, w2.Target())
	_, err = w2.Checkout(ctx, CheckoutOptions{Rev: c.ID.String()})
	must(t, err)
	compareTrees(t, wantTree, describe(t, w2.Target()))
}
