package layer

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

// Names reads the directory through its own fd: a second call, and a
// directory larger than one getdents buffer, still list every name.
func TestNamesWholeAndRepeatable(t *testing.T) {
	dir := t.TempDir()
	var want []string
	for i := range 3000 { // ~100 KB of dirents, several buffers
		name := "file-with-a-longish-name-" + strconv.Itoa(i)
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		want = append(want, name)
	}
	slices.Sort(want)
	d, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for round := range 2 {
		got, err := d.Names()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: %d names, want %d", round, len(got), len(want))
		}
	}
}

// DirOf gives a Dir of its own: closing the file it came from leaves it
// usable.
func TestDirOf(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	d, err := DirOf(f, dir)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if names, err := d.Names(); err != nil || !slices.Equal(names, []string{"a"}) {
		t.Fatalf("Names = %q, %v", names, err)
	}
	if st, err := d.Lstat("a"); err != nil || st.Size != 1 {
		t.Fatalf("Lstat = %+v, %v", st, err)
	}
}
