package atomicfile

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/strata-sh/strata/internal/pagewrite"
	"github.com/strata-sh/strata/internal/pagewrite/pagewritetest"
	"golang.org/x/sys/unix"
)

// countSyncs counts the flushes of files and directories while a test runs.
func countSyncs(t *testing.T) *int {
	t.Helper()
	n := new(int)
	oldFile, oldFD := syncFile, syncFD
	syncFile = func(f *os.File) error { *n++; return oldFile(f) }
	syncFD = func(fd int) error { *n++; return oldFD(fd) }
	t.Cleanup(func() { syncFile, syncFD = oldFile, oldFD })
	return n
}

// Write flushes the file and its directory; WriteUnsynced writes the same
// content through the same rename and flushes neither (git's refs and
// index without core.fsync).
// Content of several MiB (a layer's file index) is written in pieces of
// at most pagewrite.Max bytes, by every writer; it reads back whole.
func TestWritesAreCapped(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), (3*pagewrite.Max+5)/16+1)
	dir := t.TempDir()
	tmp, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(tmp)
	at := Dir{FD: tmp, Name: dir}
	for _, w := range []struct {
		name  string
		write func(name string) error
	}{
		{"Write", func(name string) error { return Write(dir, filepath.Join(dir, name), data, 0o644) }},
		{"WriteUnsynced", func(name string) error { return WriteUnsynced(dir, filepath.Join(dir, name), data, 0o644) }},
		{"Create", func(name string) error { return Create(dir, filepath.Join(dir, name), data, 0o644) }},
		{"WriteAt", func(name string) error { return WriteAt(at, at, name, data, 0o644) }},
	} {
		var err error
		calls := pagewritetest.Calls(t, func() { err = w.write(w.name) })
		if err != nil {
			t.Fatal(err)
		}
		if want := (len(data) + pagewrite.Max - 1) / pagewrite.Max; calls != want {
			t.Errorf("%s: %d bytes took %d write calls, want %d of at most %d", w.name, len(data), calls, want, pagewrite.Max)
		}
		if got, err := os.ReadFile(filepath.Join(dir, w.name)); err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s: read back %d bytes (%v), want the %d written", w.name, len(got), err, len(data))
		}
	}
}

func TestWriteUnsynced(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "f")
	syncs := countSyncs(t)
	if err := Write(dir, name, []byte("old\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if *syncs != 2 {
		t.Fatalf("Write flushed %d times, want the file and its directory", *syncs)
	}
	*syncs = 0
	if err := WriteUnsynced(dir, name, []byte("new\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if *syncs != 0 {
		t.Fatalf("WriteUnsynced flushed %d times", *syncs)
	}
	checkFile(t, name, "new\n", 0o640)
	if left, _ := filepath.Glob(filepath.Join(dir, ".f-*")); len(left) != 0 {
		t.Fatalf("temp files left: %v", left)
	}
}

func TestWriteAtUnsynced(t *testing.T) {
	root := t.TempDir()
	fd, err := unix.Open(root, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	d := Dir{FD: fd, Name: root}
	syncs := countSyncs(t)
	if err := WriteAt(d, d, "f", []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if *syncs != 2 {
		t.Fatalf("WriteAt flushed %d times, want the file and its directory", *syncs)
	}
	*syncs = 0
	if err := WriteAtUnsynced(d, d, "f", []byte("new\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if *syncs != 0 {
		t.Fatalf("WriteAtUnsynced flushed %d times", *syncs)
	}
	checkFile(t, filepath.Join(root, "f"), "new\n", 0o644)
}

func checkFile(t *testing.T, name, want string, perm os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != want {
		t.Fatalf("%s = %q, want %q", name, b, want)
	}
	fi, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != perm {
		t.Fatalf("%s mode %v, want %v", name, fi.Mode().Perm(), perm)
	}
}
