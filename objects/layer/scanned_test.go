package layer

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// scanTree classifies every entry of dir as a caller's scan would, by
// path ("/a/b").
func scanTree(t *testing.T, dir string) map[string]UpperEntry {
	t.Helper()
	out := map[string]UpperEntry{}
	var walk func(rel string, d *Dir)
	walk = func(rel string, d *Dir) {
		names, err := d.Names()
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range ClassifyAll(d, names, false, nil, nil) {
			if l.LstatErr != nil || l.ClassErr != nil {
				t.Fatal(l.LstatErr, l.ClassErr)
			}
			p := rel + "/" + l.Name
			out[p] = l.Entry
			if l.Entry.IsDir() {
				sub, err := d.Sub(l.Name, &l.St)
				if err != nil {
					t.Fatal(err)
				}
				walk(p, sub)
				sub.Close()
			}
		}
	}
	root, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	walk("", root)
	return out
}

// What a scan found, handed to WriteTar, gives the very tar that WriteTar
// writes by looking itself; an entry replaced since the scan is refused.
func TestWriteTarScanned(t *testing.T) {
	src := t.TempDir()
	for _, p := range []string{"a/b/c", "a/d", "e"} {
		if err := os.MkdirAll(filepath.Join(src, path.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, p), []byte("content of "+p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("e", filepath.Join(src, "s")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(src, "e"), filepath.Join(src, "f")); err != nil {
		t.Fatal(err)
	}
	write := func(scanned map[string]UpperEntry) ([]byte, error) {
		var opts WriteOptions
		asked := 0
		if scanned != nil {
			opts.Scanned = func(p string) (UpperEntry, bool) {
				asked++
				ue, ok := scanned[p]
				return ue, ok
			}
		}
		var b bytes.Buffer
		_, err := WriteTar(context.Background(), src, &b, opts)
		if scanned != nil && asked != len(scanned) {
			t.Errorf("Scanned asked %d times, want once per entry (%d)", asked, len(scanned))
		}
		return b.Bytes(), err
	}
	want, err := write(nil)
	if err != nil {
		t.Fatal(err)
	}
	scanned := scanTree(t, src)
	// A size the tree does not have shows that the scan's stat is used.
	e := scanned["/a/d"]
	e.St.Size = 3
	scanned["/a/d"] = e
	got, err := write(scanned)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(got, want) {
		t.Fatal("the scan's size of /a/d was not used")
	}
	scanned = scanTree(t, src)
	if got, err = write(scanned); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("tar written from the scan differs from the one WriteTar looks up itself")
	}
	// Replaced after the scan: another inode (made while the old one
	// still exists) under the same name.
	c := filepath.Join(src, "a/b/c")
	if err := os.WriteFile(c+".new", []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(c+".new", c); err != nil {
		t.Fatal(err)
	}
	if _, err := write(scanned); !errors.Is(err, ErrFileChanged) {
		t.Fatalf("file replaced after the scan: %v, want ErrFileChanged", err)
	}
}

// An lstat from Stated is used in place of the writer's own, and the
// entry is still classified: a file's xattrs are in the tar all the same.
func TestWriteTarStated(t *testing.T) {
	src := t.TempDir()
	for _, p := range []string{"a/b", "c"} {
		if err := os.MkdirAll(filepath.Join(src, path.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, p), []byte("content of "+p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Lsetxattr(filepath.Join(src, "a/b"), "user.k", []byte("v"), 0); err != nil {
		t.Skipf("no user xattrs here: %v", err)
	}
	stats := map[string]unix.Stat_t{}
	for _, p := range []string{"/a", "/a/b", "/c"} {
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(src, p), &st); err != nil {
			t.Fatal(err)
		}
		stats[p] = st
	}
	write := func(stated map[string]unix.Stat_t) []byte {
		var opts WriteOptions
		if stated != nil {
			opts.Stated = func(p string) (unix.Stat_t, bool) {
				st, ok := stated[p]
				return st, ok
			}
		}
		var b bytes.Buffer
		if _, err := WriteTar(context.Background(), src, &b, opts); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	want := write(nil)
	if !bytes.Contains(want, []byte("user.k")) {
		t.Fatal("the tar has no user.k xattr")
	}
	if got := write(stats); !bytes.Equal(got, want) {
		t.Fatal("tar written with the caller's lstats differs from the one WriteTar looks up itself")
	}
	// A size the tree does not have shows that the caller's lstat is used.
	st := stats["/c"]
	st.Size = 3
	stats["/c"] = st
	if got := write(stats); bytes.Equal(got, want) {
		t.Fatal("the caller's size of /c was not used")
	}
}
