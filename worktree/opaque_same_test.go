package worktree

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/strata-sh/strata/tree"
)

// TestCommitKeepsUnchangedFilesOfOpaqueDirs: a file the user left as it
// was is left out of a layer only where the lower still shows it. Below
// a directory the upper made opaque (deleted and made again, or a
// directory moved onto another) every file must go into the layer:
// commit used to leave out the unchanged ones there, and the commit lost
// them while status and the work tree still showed them.
func TestCommitKeepsUnchangedFilesOfOpaqueDirs(t *testing.T) {
	ctx := context.Background()
	for name, change := range map[string]func(root string){
		"remade": func(root string) {
			must(t, os.RemoveAll(filepath.Join(root, "data")))
			must(t, os.MkdirAll(filepath.Join(root, "data/sub"), 0o755))
			must(t, write(filepath.Join(root, "data/a"), "a\n"))     // as it was
			must(t, write(filepath.Join(root, "data/sub/c"), "c\n")) // as it was, one level down
		},
		"moved onto": func(root string) {
			must(t, os.MkdirAll(filepath.Join(root, "new/sub"), 0o755))
			must(t, write(filepath.Join(root, "new/a"), "a\n"))
			must(t, write(filepath.Join(root, "new/sub/c"), "c\n"))
			must(t, os.RemoveAll(filepath.Join(root, "data")))
			must(t, os.Rename(filepath.Join(root, "new"), filepath.Join(root, "data")))
		},
	} {
		t.Run(name, func(t *testing.T) {
			r, _, w := checkedOutBase(t)
			change(w.Target())
			c, _, err := w.Commit(ctx, CommitOptions{Message: name, Author: "T <t@example.com>"})
			must(t, err)
			tr, err := tree.NewTrees(r.Objects).Of(c)
			must(t, err)
			var got []string
			for _, p := range tr.Sorted() {
				if filepath.Dir(p) == "/data" || filepath.Dir(p) == "/data/sub" {
					got = append(got, p)
				}
			}
			sort.Strings(got)
			if want := []string{"/data/a", "/data/sub", "/data/sub/c"}; !slices.Equal(got, want) {
				t.Fatalf("the commit holds %v below /data, want %v", got, want)
			}
			// Remounted on the commit alone, the tree shows the same.
			_, err = w.Reset(ctx, c.ID.String(), ResetHard)
			must(t, err)
			for _, p := range []string{"data/a", "data/sub/c"} {
				if _, err := os.Stat(filepath.Join(w.Target(), p)); err != nil {
					t.Errorf("after reset --hard: %v", err)
				}
			}
		})
	}
}

// TestStatusBelowRemadeDirectory: a directory made again inside a
// directory made again hides what its lowers held, and status says so,
// as the commit (whose layer marks the outer one opaque) records.
func TestStatusBelowRemadeDirectory(t *testing.T) {
	ctx := context.Background()
	_, _, w := checkedOutBase(t)
	must(t, os.RemoveAll(filepath.Join(w.Target(), "data")))
	must(t, os.MkdirAll(filepath.Join(w.Target(), "data/sub"), 0o755))
	cs, err := w.Status(ctx)
	must(t, err)
	got := changeLines(cs)
	for _, want := range []string{"D /data/a", "D /data/b", "D /data/sub/c"} {
		found := false
		for _, g := range got {
			found = found || g == want
		}
		if !found {
			t.Errorf("status %v lacks %q", got, want)
		}
	}
}
