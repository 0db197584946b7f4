package worktree

// What a reset --keep writes over the view where the user's changes meet
// a directory REV deletes or changes: git keeps no directories, and
// leaves one it deletes to the untracked files in it.

import (
	"errors"
	"io/fs"
	"maps"
	"path"
	"strings"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/tree"
	"github.com/strata-sh/strata/tree/changeset"
	"golang.org/x/sys/unix"
)

// keepChangeSet is what finishKeep writes through the mount at view to
// turn told's files into tnew's (from layers), keeping the changes
// planKeep let through:
//   - a directory tnew deletes stays, as told has it, where the view
//     still has an entry in it that told lacks; only told's entries in
//     it are deleted;
//   - a directory on both sides that the user deleted is not made again
//     for another mode or mtime (planKeep refused if tnew brings
//     anything below it).
//
// Both are read from the view, so that a write killed and done again
// comes out the same.
func keepChangeSet(view string, told, tnew tree.Tree, layers []objects.Layer) (*changeset.Set, error) {
	root, err := layer.OpenDir(view)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	result, cloned := tnew, false
	gone := map[string]bool{}
	for p, o := range told {
		n := tnew[p]
		if p == "/" || o.Type != layer.TypeDir || n != nil && n.Type != layer.TypeDir {
			continue
		}
		names, err := viewNames(root, p)
		if err != nil {
			return nil, err
		}
		switch {
		case names == nil && n != nil:
			gone[p] = true // deleted by the user
		case n == nil && holdsUntracked(told, p, names):
			if !cloned {
				result, cloned = maps.Clone(tnew), true
			}
			for d := p; d != "/" && tnew[d] == nil; d = path.Dir(d) {
				result[d] = told[d]
			}
		}
	}
	cs := changeset.New(told, result, nil, layers)
	if len(gone) > 0 {
		cs.Paths = withoutPathsIn(cs.Paths, gone)
	}
	return cs, nil
}

// viewNames lists the directory p of the view, nil if none is there.
func viewNames(root *layer.Dir, p string) ([]string, error) {
	d, err := root.OpenBeneath(strings.TrimPrefix(p, "/"))
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP) {
		return nil, nil // deleted, or something else now: planKeep saw to it
	}
	if err != nil {
		return nil, err
	}
	defer d.Close()
	names, err := d.Names()
	if names == nil && err == nil {
		names = []string{}
	}
	return names, err
}

// holdsUntracked reports whether names, the entries of the directory p,
// hold one that t lacks.
func holdsUntracked(t tree.Tree, p string, names []string) bool {
	for _, n := range names {
		if t[path.Join(p, n)] == nil {
			return true
		}
	}
	return false
}
