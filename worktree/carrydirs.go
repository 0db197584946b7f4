package worktree

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/tree"
	"github.com/strata-sh/strata/tree/changeset"
)

// A directory above a carried change is no change itself, but the copy
// of it the upper holds keeps the old commit's mode and owner, which
// would hide the new commit's. git keeps no directories and carries such
// a change; a staged carry gives its copy the new commit's mode, owner
// and xattrs instead (adoptDirs), so that only other differences clash.

// adoptableDirs returns the paths of clash that adoptDirs may settle:
// directories in both commits with another mode, owner or xattrs, that
// no change is at.
func adoptableDirs(clash []string, changes []tree.Change, told, tnew tree.Tree) map[string]bool {
	changed := make(map[string]bool, len(changes))
	for _, c := range changes {
		changed[c.Path] = true
	}
	out := map[string]bool{}
	for _, p := range clash {
		o, n := told[p], tnew[p]
		if p != "/" && !changed[p] && bothDirs(o, n) &&
			(o.Mode != n.Mode || o.UID != n.UID || o.GID != n.GID || o.Xattrs != n.Xattrs) {
			out[p] = true
		}
	}
	return out
}

// withoutPathsIn drops the paths in drop from sorted.
func withoutPathsIn(sorted []string, drop map[string]bool) []string {
	var out []string
	for _, p := range sorted {
		if !drop[p] {
			out = append(out, p)
		}
	}
	return out
}

// adoptDirs gives each directory of stage above a change that is no
// change itself (adoptableDirs) tnew's mode and owner, where it still
// has told's, and returns those it gave them. One whose xattrs differ
// too, and that still has told's, is written whole from tnew's layers by
// writeDirs (its xattrs are in no file map, only their digest).
func adoptDirs(stage string, changes []tree.Change, told, tnew tree.Tree, writeDirs func([]string) error) (map[string]bool, error) {
	var above []string
	seen := map[string]bool{}
	for _, c := range changes {
		for d := path.Dir(c.Path); d != "/" && !seen[d]; d = path.Dir(d) {
			seen[d] = true
			above = append(above, d)
		}
	}
	adopt := adoptableDirs(above, changes, told, tnew)
	if len(adopt) == 0 {
		return nil, nil
	}
	root, err := layer.OpenDir(stage)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	adopted := map[string]bool{}
	var whole []string
	for p := range adopt {
		d, err := root.OpenBeneath(strings.TrimPrefix(p, "/"))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		ok, err := adoptDir(d, told[p], tnew[p])
		d.Close()
		if err != nil {
			return nil, err
		}
		if ok && told[p].Xattrs != tnew[p].Xattrs {
			whole = append(whole, p)
			continue
		}
		adopted[p] = ok
	}
	if len(whole) > 0 {
		if err := writeDirs(whole); err != nil {
			return nil, fmt.Errorf("give directories the new commit's xattrs: %w", err)
		}
		for _, p := range whole {
			adopted[p] = true
		}
	}
	return adopted, nil
}

// adoptDir gives d n's mode and owner if it has o's, xattrs too; where
// n's xattrs differ, it only reports that d has o's (the caller writes
// n's entry whole).
func adoptDir(d *layer.Dir, o, n *layer.Entry) (bool, error) {
	st, err := d.Lstat(".")
	if err != nil {
		return false, err
	}
	if st.Mode&0o7777 != o.Mode || int(st.Uid) != o.UID || int(st.Gid) != o.GID {
		return false, nil // not the old commit's: carryConflicts sees it
	}
	xs, err := layer.ClassifyStat(d, ".", &st, false, make([]byte, 64<<10))
	if err != nil {
		return false, err
	}
	if xs.XattrDigest() != o.Xattrs {
		return false, nil // not the old commit's xattrs
	}
	if o.Xattrs != n.Xattrs {
		return true, nil
	}
	if err := d.SetOwnerMode(n.UID, n.GID, n.Mode); err != nil {
		return false, fmt.Errorf("give %s the new commit's mode: %w", d.Path(), err)
	}
	return true, nil
}

// writeEntries writes tnew's entries at paths into stage, from layers
// (the commit tnew is the tree of): a directory there keeps its content
// and takes the entry's mode, owner, xattrs and mtime exactly.
func (w *Worktree) writeEntries(ctx context.Context, stage string, paths []string, told, tnew tree.Tree, layers []objects.Layer) error {
	ours, result := tree.Tree{}, tree.Tree{}
	for _, p := range paths {
		ours[p], result[p] = told[p], tnew[p]
	}
	cs := changeset.New(ours, result, nil, layers)
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(cs.WriteTar(ctx, w.Repo.Objects, pw)) }()
	err := layer.Unpack(ctx, pr, stage, layer.Apply)
	pr.CloseWithError(io.ErrClosedPipe)
	return err
}

// plainDirs returns the paths of dirs that are plain directories in the
// upper: not opaque or renamed, which hide what lies below them.
func plainDirs(upper string, dirs map[string]bool) (map[string]bool, error) {
	if len(dirs) == 0 {
		return nil, nil
	}
	root, err := layer.OpenDir(upper)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	out := map[string]bool{}
	buf := make([]byte, 64<<10)
	for p := range dirs {
		d, err := root.OpenBeneath(strings.TrimPrefix(path.Dir(p), "/"))
		if err != nil {
			return nil, err
		}
		e, err := layer.Classify(d, path.Base(p), true, buf)
		d.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if e.Class == layer.Content && e.IsDir() {
			out[p] = true
		}
	}
	return out, nil
}

// leftDirsIn returns the paths of clash that told has as a directory and
// tnew lacks. As plain directories of an upper, carryConflicts counts
// them as clashes only when they hold no change (deletions alone): git
// leaves no directory there, and the copy drops them (pruneEmptied).
func leftDirsIn(clash []string, told, tnew tree.Tree) map[string]bool {
	out := map[string]bool{}
	for _, p := range clash {
		if leftDir(told[p], tnew[p]) {
			out[p] = true
		}
	}
	return out
}

// pruneEmptied removes from stage, a staged carry, the directories of
// clash that the switch deletes and that hold none of the changes, only
// deletions of what was in them (leftDirsIn), and returns the rest of
// clash: the switch deletes the directory, as git's checkout does.
func pruneEmptied(stage string, clash []string, told, tnew tree.Tree) ([]string, error) {
	emptied, err := plainDirs(stage, leftDirsIn(clash, told, tnew))
	if err != nil || len(emptied) == 0 {
		return clash, err
	}
	for p := range emptied {
		if err := os.RemoveAll(filepath.Join(stage, p)); err != nil {
			return nil, err
		}
	}
	return withoutPathsIn(clash, emptied), nil
}
