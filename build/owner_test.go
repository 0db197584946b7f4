package build

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
	"golang.org/x/sys/unix"
)

// An image's /etc/passwd that is a FIFO or a device node is refused when
// --chown or USER names a user, not opened: before the fix a FIFO hung
// the build for ever (Ctrl-C could not stop it), and a device node was
// "no /etc/passwd in the image".
func TestOwnerLookupOpensOnlyRegularFiles(t *testing.T) {
	for _, c := range []struct {
		name, recipe, want string
		mode               uint32
	}{
		{"fifo-chown", "COPY --chown=app a /a", "--chown=app: /etc/passwd: not a regular file (a named pipe)", unix.S_IFIFO},
		{"fifo-user", "USER app\nWORKDIR /w", "USER app: /etc/passwd: not a regular file (a named pipe)", unix.S_IFIFO},
		{"device", "COPY --chown=app a /a", "--chown=app: /etc/passwd: not a regular file (a character device)", unix.S_IFCHR},
	} {
		t.Run(c.name, func(t *testing.T) {
			tree := t.TempDir()
			os.MkdirAll(filepath.Join(tree, "etc"), 0o755)
			// 1:3 is /dev/null: harmless to open, and empty.
			if err := unix.Mknod(filepath.Join(tree, "etc/passwd"), c.mode|0o644, int(unix.Mkdev(1, 3))); err != nil {
				t.Fatal(err)
			}
			r := repoWithTree(t, tree)
			done := make(chan error, 1)
			go func() {
				_, err := buildIn(t, r, ctxWith(t, map[string]string{"a": "a"}), "FROM main\n"+c.recipe+"\n")
				done <- err
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				releaseFIFOs(r.Root)
				<-done
				t.Fatal("the build waited on the image's /etc/passwd")
			}
			if err == nil || !strings.HasSuffix(err.Error(), c.want) {
				t.Fatalf("got %v, want ...%s", err, c.want)
			}
		})
	}
}

// repoWithTree makes a repository whose main holds dir as its one layer.
func repoWithTree(t *testing.T, dir string) *repo.Repo {
	t.Helper()
	r := newRepo(t, false)
	l, err := r.Objects.AddLayerFromDir(context.Background(), dir, layer.WriteOptions{Mtime: clamp})
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.Objects.WriteCommit(objects.NewCommit{Layers: []objects.Layer{l}, Date: epoch, Message: "base", OS: runtime.GOOS, Architecture: runtime.GOARCH})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Refs.Update(refs.Heads+"main", c.ID, "", "test"); err != nil {
		t.Fatal(err)
	}
	return r
}

// releaseFIFOs opens every FIFO under dir for writing and closes it: a
// reader blocked in open gets EOF, so a build stuck there ends.
func releaseFIFOs(dir string) {
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type()&fs.ModeNamedPipe != 0 {
			if fd, err := unix.Open(p, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0); err == nil {
				unix.Close(fd)
			}
		}
		return nil
	})
}

// --chown=:staff and --chown=app: are what buildkit and buildah read
// them as (root with the group; the user with its primary group), not
// refused; root needs no /etc/passwd.
func TestLookupOwnerEmptyParts(t *testing.T) {
	tree := t.TempDir()
	os.MkdirAll(filepath.Join(tree, "etc"), 0o755)
	os.WriteFile(filepath.Join(tree, "etc/passwd"), []byte("app:x:1000:1001::/home/app:/bin/sh\n"), 0o644)
	os.WriteFile(filepath.Join(tree, "etc/group"), []byte("app:x:1001:\nstaff:x:50:\n"), 0o644)
	empty := t.TempDir()
	for _, c := range []struct {
		dir, chown string
		uid, gid   int
	}{
		{tree, ":staff", 0, 50},
		{tree, "app:", 1000, 1001},
		{tree, "app", 1000, 1001},
		{tree, "app:staff", 1000, 50},
		{tree, "7:", 7, 7},
		{tree, ":9", 0, 9},
		{empty, "root", 0, 0},
		{empty, "root:root", 0, 0},
	} {
		root, err := os.OpenRoot(c.dir)
		if err != nil {
			t.Fatal(err)
		}
		uid, gid, err := lookupOwner(root, c.chown)
		root.Close()
		if err != nil || uid != c.uid || gid != c.gid {
			t.Errorf("%q: got %d:%d, %v; want %d:%d", c.chown, uid, gid, err, c.uid, c.gid)
		}
	}
}

// An id above exec.MaxID is refused, as the runtime refuses it: chown
// takes 4294967295 for "leave it" and 4294967296 wraps to 0, so
// --chown=4294967296 once made the files root's, silently.
func TestLookupOwnerRefusesIDsOutOfRange(t *testing.T) {
	tree := t.TempDir()
	os.MkdirAll(filepath.Join(tree, "etc"), 0o755)
	os.WriteFile(filepath.Join(tree, "etc/passwd"), []byte("big:x:4294967296:0::/:/bin/sh\nbiggid:x:7:4294967295::/:/bin/sh\n"), 0o644)
	os.WriteFile(filepath.Join(tree, "etc/group"), []byte("huge:x:2147483648:\n"), 0o644)
	root, err := os.OpenRoot(tree)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	for _, chown := range []string{"4294967296", "4294967295", "2147483648", "7:4294967296", "big", "biggid", "7:huge"} {
		if uid, gid, err := lookupOwner(root, chown); err == nil || !strings.Contains(err.Error(), "out of range (0..2147483647)") {
			t.Errorf("%q: got %d:%d, %v; want out of range", chown, uid, gid, err)
		}
	}
	if uid, gid, err := lookupOwner(root, "2147483647"); err != nil || uid != 2147483647 || gid != 2147483647 {
		t.Errorf("2147483647: got %d:%d, %v", uid, gid, err)
	}
}
