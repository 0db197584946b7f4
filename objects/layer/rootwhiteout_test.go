package layer

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A whiteout that names no file (".wh." alone: the root at the top) is
// refused by the index and by unpack, with an error naming the entry.
func TestWhiteoutOfRootRefused(t *testing.T) {
	requireRoot(t)
	for _, name := range []string{".wh.", "./.wh.", "a/.wh..", "a/.wh...", "a/.wh."} {
		blob := craft(t, []h{{"d", "a/", ""}, {"f", name, ""}})
		_, _, err := Index(bytes.NewReader(blob))
		if !errors.Is(err, ErrUnsafePath) || !strings.Contains(err.Error(), `"`+name+`"`) {
			t.Errorf("Index with %q: %v", name, err)
		}
		for _, mode := range []UnpackMode{Apply, ToOverlayLower} {
			dir := t.TempDir()
			err := Unpack(context.Background(), bytes.NewReader(blob), dir, mode)
			if !errors.Is(err, ErrUnsafePath) || !strings.Contains(err.Error(), `"`+name+`"`) ||
				!strings.Contains(err.Error(), "whiteout of the root is invalid") {
				t.Errorf("Unpack (mode %d) with %q: %v", mode, name, err)
			}
		}
	}
}

// An opaque marker at the root is indexed as the root's, and unpacked:
// applied, it clears what lower layers left; as an overlay lower, the root
// carries the opaque xattr (which overlayfs ignores on a root: checkout
// drops the lowers below instead).
func TestRootOpaque(t *testing.T) {
	requireRoot(t)
	blob := craft(t, []h{{"f", ".wh..wh..opq", ""}, {"f", "b", "b"}})
	_, entries, err := Index(bytes.NewReader(blob))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].Path != "/" || entries[0].Type != TypeOpaque {
		t.Fatalf("index: %+v", entries)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a"), []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Unpack(context.Background(), bytes.NewReader(blob), dir, Apply); err != nil {
		t.Fatal(err)
	}
	if names, _ := os.ReadDir(dir); len(names) != 1 || names[0].Name() != "b" {
		t.Errorf("applied root opaque left %v", names)
	}
	lower := t.TempDir()
	if err := Unpack(context.Background(), bytes.NewReader(blob), lower, ToOverlayLower); err != nil {
		t.Fatal(err)
	}
	if v, err := lgetxattr(lower, "trusted.overlay.opaque"); err != nil || v != "y" {
		t.Errorf("lower root opaque xattr = %q, %v", v, err)
	}
}
