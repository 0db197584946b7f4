package layer

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestWriteTarLeavesAtime: writing a tree into a layer does not touch its
// files' access times, a small file read ahead or a large one streamed.
// As root WriteTar reads through its noatime mount (OpenDirForRead); the
// careful path, reading where that mount cannot be made, asks O_NOATIME,
// and is read here too. Atimes are set before mtimes, which relatime
// would otherwise update on the first read.
func TestWriteTarLeavesAtime(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("needs root (O_NOATIME on files it owns is enough, but the suite runs as root)")
	}
	dir := t.TempDir()
	files := map[string]int{"small": 10, "large": prefetchMax + 1}
	old := time.Unix(1000000000, 0)
	for name, n := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, make([]byte, n), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, old, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := WriteTar(context.Background(), dir, io.Discard, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	plain, err := OpenDir(dir) // not noDev: every open goes the careful way
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	for name := range files {
		f, _, err := plain.OpenFile(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.Copy(io.Discard, f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	for name := range files {
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(dir, name), &st); err != nil {
			t.Fatal(err)
		}
		if got := time.Unix(st.Atim.Unix()); !got.Equal(old) {
			t.Errorf("%s: atime %v after writing the layer, want %v", name, got, old)
		}
	}
}
