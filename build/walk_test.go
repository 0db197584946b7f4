package build

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/strata-sh/strata/objects/layer"
	"golang.org/x/sys/unix"
)

// walkTree makes a tree wide and deep enough that every level's
// subdirectories are walked on several goroutines.
func walkTree(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for i := range 12 {
		for j := range 6 {
			dir := filepath.Join(root, fmt.Sprintf("d%02d", i), fmt.Sprintf("e%d", j), "f")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for k := range 3 {
				if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("x%d", k)), nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Symlink("f/x0", filepath.Join(root, fmt.Sprintf("d%02d", i), fmt.Sprintf("e%d.link", j))); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(root, fmt.Sprintf("d%02d.txt", i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func openWalkRoot(t *testing.T, root string) *layer.Dir {
	t.Helper()
	f, err := os.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := layer.DirOf(f, root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// The parallel walk gives filepath.WalkDir's order (by name, a directory
// before what it holds), whatever its goroutines do.
func TestWalkDirOrder(t *testing.T) {
	root := walkTree(t)
	var want []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		want = append(want, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for round := range 5 {
		got, err := walkDir([]string{"first"}, openWalkRoot(t, root), ".", func(q string, fi fs.FileInfo, d *layer.Dir, name string) (string, bool, bool, error) {
			return q, true, fi.IsDir(), nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, append([]string{"first"}, want...)) {
			t.Fatalf("round %d: walk order\n%q\nwant\n%q", round, got, want)
		}
	}
}

// A visit that keeps nothing or does not descend leaves those out; the
// error a walk returns is the first in walk order, though later ones
// come up on other goroutines first, and it leaves no directory open.
func TestWalkDirSkipsAndFails(t *testing.T) {
	root := walkTree(t)
	got, err := walkDir(nil, openWalkRoot(t, root), ".", func(q string, fi fs.FileInfo, d *layer.Dir, name string) (string, bool, bool, error) {
		return q, fi.Mode().IsRegular() && filepath.Base(q) == "x2", fi.IsDir() && name != "e3", nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 12*5 || got[0] != "d00/e0/f/x2" || slices.Contains(got, "d00/e3/f/x2") {
		t.Fatalf("kept %d: %q", len(got), got)
	}

	before := openFds(t)
	for range 5 {
		top := openWalkRoot(t, root)
		_, err = walkDir(nil, top, ".", func(q string, fi fs.FileInfo, d *layer.Dir, name string) (string, bool, bool, error) {
			switch q {
			case "d03/e2/f/x1":
				time.Sleep(20 * time.Millisecond) // the later failures are met first
				return "", false, false, errors.New("first")
			case "d05/e0/f/x0", "d09/e4.link":
				return "", false, false, errors.New("later")
			}
			return q, true, fi.IsDir(), nil
		})
		top.Close()
		if err == nil || err.Error() != "first" {
			t.Fatalf("walk error %v, want the first in walk order", err)
		}
	}
	// More would be a leak; fewer is an earlier test's work ending.
	if n := openFds(t); n > before {
		t.Errorf("%d open files after failed walks, %d before", n, before)
	}
}

// An unreadable directory fails the walk with its path.
func TestWalkDirNamesThePath(t *testing.T) {
	root := walkTree(t)
	if err := os.Remove(filepath.Join(root, "d07/e1/f/x1")); err != nil {
		t.Fatal(err)
	}
	_, err := walkDir(nil, openWalkRoot(t, root), ".", func(q string, fi fs.FileInfo, d *layer.Dir, name string) (string, bool, bool, error) {
		if q == "d07/e1/f/x0" {
			// Gone between the listing and its lstat.
			if err := os.Remove(filepath.Join(root, "d07/e1/f/x2")); err != nil {
				return "", false, false, err
			}
		}
		return q, true, fi.IsDir(), nil
	})
	if err == nil || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "d07/e1/f/x2") {
		t.Fatalf("walk error %v, want the missing file's path", err)
	}
}

func openFds(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(fds)
}

// A context in a work tree is opened through its descriptor
// (/proc/self/fd/N): what its walk cannot read is named by its path in
// the context, not by that descriptor's.
func TestWalkNamesTheContextPath(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	src, err := rootAt(fd)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	d, err := openDir(src, "d")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Lstat("gone"); err == nil || err.Error() != "lstat d/gone: no such file or directory" {
		t.Errorf("Lstat: %v, want lstat d/gone: no such file or directory", err)
	}
}

// The paths a walk gives (joinName, destOf: concatenations) are the ones
// path.Join gives, for names a Clean would touch if they were paths
// ("..x", ".hidden", "a b") and destinations at the root or below.
func TestCollectPathsAreJoins(t *testing.T) {
	dir := ctxWith(t, map[string]string{
		"site/..x/f": "f", "site/.hidden": "h", "site/a b/c..": "c", "site/x../.y/z": "z", "top": "t",
	})
	for _, c := range []struct{ src, dest string }{
		{".", "/"}, {".", "/srv/"}, {"site", "/"}, {"site", "/srv/deep/"}, {"site/", "/srv"},
	} {
		ents, _, err := collectIn(t, dir, []string{c.src}, c.dest)
		if err != nil {
			t.Fatal(err)
		}
		top := path.Clean(c.src)
		if len(ents) < 5 {
			t.Fatalf("%s -> %s: %d entries", c.src, c.dest, len(ents))
		}
		for _, e := range ents[1:] {
			rel, ok := strings.CutPrefix(e.src, top+"/")
			if top == "." {
				rel, ok = e.src, true
			}
			if !ok || e.src != path.Clean(e.src) {
				t.Errorf("%s -> %s: source %q is not a clean path under %s", c.src, c.dest, e.src, top)
			}
			if want := path.Join(c.dest, rel); e.dst != want {
				t.Errorf("%s -> %s: %s goes to %q, want %q", c.src, c.dest, e.src, e.dst, want)
			}
		}
	}
}
