package treepath

import (
	"os"
	"path/filepath"
	"testing"
)

// TestRootOfALinkSwappedIn: Root is asked of a path walked with no link
// on it; a link there now was swapped in since (a container's), and
// counts as a tree's, never as a path in no tree for the kernel to
// follow (Path's last check once led config -f out of the tree so).
func TestRootOfALinkSwappedIn(t *testing.T) {
	dir := t.TempDir()
	if err := os.Symlink(t.TempDir(), filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if Root(filepath.Join(dir, "link")) == "" {
		t.Fatal("a link in the way counted as a path in no tree")
	}
	if r := Root(dir); r != "" {
		t.Fatalf("Root(%s) = %q, want none", dir, r)
	}
}
