package layer

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// A directory wider than a window, with files on both sides of
// prefetchMax, hardlinks, symlinks, subdirectories and excluded names (a
// reserved one among them), is written in name order with each file's
// content under its own header: the index from the tar itself matches
// WriteTar's.
func TestWideDirectory(t *testing.T) {
	src := t.TempDir()
	sizes := []int{0, 1, 100, prefetchMax - 1, prefetchMax, prefetchMax + 1, 200 << 10}
	var want []string
	for i := range 3*windowNames + 7 {
		name := fmt.Sprintf("e%04d", i)
		p := filepath.Join(src, name)
		switch i % 9 {
		case 7:
			if err := os.Symlink("e0000", p); err != nil {
				t.Fatal(err)
			}
		case 8:
			if err := os.MkdirAll(filepath.Join(p, "sub"), 0o755); err != nil {
				t.Fatal(err)
			}
			want = append(want, "/"+name+"/sub")
		default:
			b := bytes.Repeat([]byte{byte(i)}, sizes[i%len(sizes)])
			copy(b, name)
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want = append(want, "/"+name)
	}
	if err := os.Link(filepath.Join(src, "e0003"), filepath.Join(src, "z-link")); err != nil {
		t.Fatal(err)
	}
	want = append(want, "/z-link")
	for _, n := range []string{".wh.skipped", "e0100-skipped"} {
		if err := os.WriteFile(filepath.Join(src, n), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	opts := WriteOptions{Exclude: func(p string, _ bool) bool { return strings.HasSuffix(p, "skipped") }}
	var tarBuf bytes.Buffer
	entries, err := WriteTar(context.Background(), src, &tarBuf, opts)
	if err != nil {
		t.Fatal(err)
	}
	_, indexed, err := Index(bytes.NewReader(tarBuf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(entries, indexed) {
		t.Fatalf("WriteTar index and the tar's differ")
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Path)
		if e.Type == TypeFile {
			b, err := os.ReadFile(filepath.Join(src, e.Path))
			if err != nil {
				t.Fatal(err)
			}
			if e.Size != int64(len(b)) {
				t.Errorf("%s: size %d, want %d", e.Path, e.Size, len(b))
			}
		}
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("entries %v\nwant %v", got, want)
	}
	if l := entries[len(entries)-1]; l.Type != TypeHardlink || l.Link != "/e0003" {
		t.Errorf("last entry %+v, want a hardlink to /e0003", l)
	}
}
