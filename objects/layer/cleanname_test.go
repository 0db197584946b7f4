package layer

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestUnpackCleansNames: a name with "." and ".." that stays inside the
// root is cleaned as docker's archive package cleans it, and whiteouts
// are read from the clean name: "a/.wh.../../bin" is the file a/bin, not a
// whiteout nor an escape; "y/./../z" is z.
func TestUnpackCleansNames(t *testing.T) {
	requireRoot(t)
	tarball := craft(t, []h{{"d", "a/", ""}, {"d", "y/", ""}, {"f", "a/.wh.../../bin", "bin"}, {"f", "y/./../z", "z"}})
	for _, mode := range []UnpackMode{Apply, ToOverlayLower} {
		t.Run(fmt.Sprint(mode), func(t *testing.T) {
			dir := t.TempDir()
			if err := Unpack(context.Background(), bytes.NewReader(tarball), dir, mode); err != nil {
				t.Fatal(err)
			}
			for name, want := range map[string]string{"a/bin": "bin", "z": "z"} {
				if b, err := os.ReadFile(filepath.Join(dir, name)); err != nil || string(b) != want {
					t.Errorf("%s: %q, %v; want %q", name, b, err, want)
				}
			}
		})
	}
	if _, entries, err := Index(bytes.NewReader(tarball)); err != nil {
		t.Fatal(err)
	} else if p := entries[2].Path + " " + entries[3].Path; p != "/a/bin /z" {
		t.Errorf("indexed as %s, want /a/bin /z", p)
	}
}
