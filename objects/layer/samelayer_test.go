package layer

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
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
		tarball := buildTar(t, []planEntry{
			fileE("a", 0o644, "this layer\n"), // created, then whited out in the same layer: kept
			fileE(".wh.a", 0o644, ""),
			fileE(".wh.b", 0o644, ""), // b from below: gone
			dirE("d/", 0o755),
			fileE("d/new", 0o644, "this layer\n"),
			fileE("d/.wh..wh..opq", 0o644, ""), // hides d/old from below, not d/new
		})
		if err := Unpack(context.Background(), bytes.NewReader(tarball), dir, mode); err != nil {
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

// TestWhiteoutAfterOwnEntries: a whiteout or an opaque marker that comes
// after the entries its layer gives below it (the directory given or only
// implied) hides what the layers below hold there, at any depth, and
// keeps the layer's own, as the file maps do: the flattened tree kept the
// lowers' files, or deleted the layer's; a snapshot of the layer showed
// the lowers through the directory.
func TestWhiteoutAfterOwnEntries(t *testing.T) {
	for _, mode := range []UnpackMode{Apply, ToOverlayLower} {
		dir := t.TempDir()
		if mode == Apply {
			for _, p := range []string{"d/old", "d/s/old", "e/old", "o/s/old"} {
				os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755)
				if err := os.WriteFile(filepath.Join(dir, p), []byte("below\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		tarball := buildTar(t, []planEntry{
			fileE("d/s/new", 0o644, "this layer\n"), // no entry for d/ or d/s/
			fileE(".wh.d", 0o644, ""),
			dirE("e/", 0o755),
			fileE("e/new", 0o644, "this layer\n"),
			fileE(".wh.e", 0o644, ""),
			fileE("o/s/new", 0o644, "this layer\n"),
			fileE("o/.wh..wh..opq", 0o644, ""),
		})
		if err := Unpack(context.Background(), bytes.NewReader(tarball), dir, mode); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"d/s/new", "e/new", "o/s/new"} {
			if b, err := os.ReadFile(filepath.Join(dir, p)); err != nil || string(b) != "this layer\n" {
				t.Errorf("mode %d: %s is %q (%v), want this layer's", mode, p, b, err)
			}
		}
		if mode == Apply {
			for _, p := range []string{"d/old", "d/s/old", "e/old", "o/s/old"} {
				if _, err := os.Lstat(filepath.Join(dir, p)); err == nil {
					t.Errorf("%s from below survived", p)
				}
			}
			continue
		}
		for _, p := range []string{"d", "e", "o"} {
			v := make([]byte, 8)
			n, err := unix.Getxattr(filepath.Join(dir, p), "trusted.overlay.opaque", v)
			if err != nil || string(v[:n]) != "y" {
				t.Errorf("%s is not opaque (%v): the lowers show through it", p, err)
			}
		}
	}
}
