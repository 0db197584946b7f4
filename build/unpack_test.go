package build

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// TestIsArchiveByContent: ADD tells an archive by its content, zstd's
// too, whatever its name; a file that is no tar is not one.
func TestIsArchiveByContent(t *testing.T) {
	var plain bytes.Buffer
	tw := tar.NewWriter(&plain)
	tw.WriteHeader(&tar.Header{Name: "f", Mode: 0o644, Size: 2, Typeflag: tar.TypeReg})
	tw.Write([]byte("hi"))
	tw.Close()
	var zst bytes.Buffer
	zw, err := zstd.NewWriter(&zst)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(plain.Bytes())
	zw.Close()
	dir := t.TempDir()
	for name, content := range map[string][]byte{"a.txt": zst.Bytes(), "b": plain.Bytes(), "no.tar": bytes.Repeat([]byte("x"), 2048), "empty.tar": nil} {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	for name, want := range map[string]bool{"a.txt": true, "b": true, "no.tar": false, "empty.tar": false} {
		if got, err := isArchive(root, name); err != nil || got != want {
			t.Errorf("isArchive(%s) = %v, %v; want %v", name, got, err, want)
		}
	}
}
