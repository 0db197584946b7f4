package worktree

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/strata-sh/strata/tree"
)

// TestStatusSubset: status through the subset of the base tree the upper
// touches finds what status through the whole tree finds: modified,
// deleted and added files, a removed and recreated (opaque) directory, a
// directory replaced by a file, a renamed directory, hardlinks.
func TestStatusSubset(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	r := newRepo(t)
	base := filepath.Join(t.TempDir(), "base")
	for _, f := range []string{"a/x", "a/y", "b/z", "b/q/r", "c/w", "d", "e/f", "e/g/h", "k/l", "same/s"} {
		must(t, os.MkdirAll(filepath.Join(base, filepath.Dir(f)), 0o755))
		must(t, os.WriteFile(filepath.Join(base, f), []byte(f), 0o644))
	}
	must(t, os.Link(filepath.Join(base, "k/l"), filepath.Join(base, "k/l2")))
	commitDir(t, r, base, "base")
	w := checkoutMain(t, r, "main")
	root := w.Target()
	must(t, os.WriteFile(filepath.Join(root, "a/x"), []byte("changed"), 0o644))
	must(t, os.Remove(filepath.Join(root, "a/y")))
	must(t, os.RemoveAll(filepath.Join(root, "b")))
	must(t, os.MkdirAll(filepath.Join(root, "b"), 0o755))
	must(t, os.WriteFile(filepath.Join(root, "b/new"), []byte("new"), 0o644))
	must(t, os.RemoveAll(filepath.Join(root, "c")))
	must(t, os.WriteFile(filepath.Join(root, "c"), []byte("file now"), 0o644))
	must(t, os.Remove(filepath.Join(root, "d")))
	must(t, os.Rename(filepath.Join(root, "e"), filepath.Join(root, "e2")))
	must(t, os.MkdirAll(filepath.Join(root, "n/m"), 0o755))
	must(t, os.WriteFile(filepath.Join(root, "n/m/o"), []byte("o"), 0o644))

	compare := func(what string, least int) {
		t.Helper()
		sub, err := w.Status(ctx)
		must(t, err)
		old := maxTouched
		maxTouched = 0 // every upper is too large: the whole tree
		whole, err := w.Status(ctx)
		maxTouched = old
		must(t, err)
		if len(whole) < least {
			t.Fatalf("%s: whole-tree status found only %d changes: %v", what, len(whole), paths(whole))
		}
		if !reflect.DeepEqual(sub, whole) {
			t.Fatalf("%s: subset status:\n%v\nwhole-tree status:\n%v", what, paths(sub), paths(whole))
		}
	}
	compare("changes", 20)
	// A link whose other name the upper does not hold: the subset lacks
	// the file it names, and status reads the whole tree.
	must(t, os.WriteFile(filepath.Join(root, "k/l2"), []byte("one name"), 0o644))
	compare("a link", 21)
}

func paths(cs []tree.Change) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Kind.String()+" "+c.Path)
	}
	return out
}
