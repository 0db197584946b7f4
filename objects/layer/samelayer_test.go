package layer

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestWhiteoutSparesSameLayer: a whiteout or an opaque marker applies to
// the layers below only (OCI image spec), never to what its own layer
// created, whatever the order in the tar; what the layers below had goes.
func TestWhiteoutSparesSameLayer(t *testing.T) {
	for _, mode := range []UnpackMode{Apply, ToOverlayLower} {
		dir := t.TempDir()
		for _, p := range []string{"a", "b", "d/old"} {
			os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755)
			if err := os.WriteFile(filepath.Join(dir, p), []byte("below\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		file := func(name, body string) {
			tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(body))})
			tw.Write([]byte(body))
		}
		file("a", "this layer\n") // created, then whited out in the same layer: kept
		file(".wh.a", "")
		file(".wh.b", "") // b from below: gone
		tw.WriteHeader(&tar.Header{Name: "d/", Typeflag: tar.TypeDir, Mode: 0o755})
		file("d/new", "this layer\n")
		file("d/.wh..wh..opq", "") // hides d/old from below, not d/new
		tw.Close()
		if err := Unpack(context.Background(), &buf, dir, mode); err != nil {
			t.Fatal(err)
		}
		read := func(p string) string {
			b, err := os.ReadFile(filepath.Join(dir, p))
			if err != nil {
				return "missing"
			}
			return string(b)
		}
		if got := read("a"); got != "this layer\n" {
			t.Errorf("mode %d: a is %q, want this layer's", mode, got)
		}
		if got := read("d/new"); got != "this layer\n" {
			t.Errorf("mode %d: d/new is %q, want this layer's", mode, got)
		}
		if mode == Apply {
			if got := read("b"); got != "missing" {
				t.Errorf("b from below survived its whiteout: %q", got)
			}
			if got := read("d/old"); got != "missing" {
				t.Errorf("d/old from below survived the opaque directory: %q", got)
			}
		}
	}
}
