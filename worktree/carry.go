package worktree

// Carrying uncommitted changes across a switch, as git's checkout does:
// the same upper is mounted over the new commit's lowers. That shows the
// new commit with exactly the user's changes only where nothing the
// upper holds meets what differs between the two commits.

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/tree"
)

// planCarry decides whether a switch from the commit st is at to c can
// keep the uncommitted changes (true), needs no carrying (false: the tree
// is clean), or must be refused: a DirtyError naming the changes that
// would be overwritten, or all of them where strata cannot carry any
// (commits stacked on the mount, a merge or rebase stopped here).
func (w *Worktree) planCarry(ctx context.Context, st State, c *objects.Commit) (bool, error) {
	changes, err := w.scanChanges(ctx, st)
	if err != nil || len(changes) == 0 {
		return false, err
	}
	refuse := &DirtyError{Changes: changes}
	if s, ok, err := w.Sequence(); err != nil {
		return false, err
	} else if ok {
		refuse.Op = s.Op
		return false, refuse
	}
	// A stacked upper also holds what was committed since its mount: over
	// c's lowers that would show as changes too. An unborn side has no
	// tree to compare.
	if st.Stacked || st.Commit == "" || c == nil {
		return false, refuse
	}
	old, err := w.commit(st.Commit)
	if err != nil {
		return false, err
	}
	told, err := w.trees.Of(old)
	if err != nil {
		return false, err
	}
	tnew, err := w.trees.Of(c)
	if err != nil {
		return false, err
	}
	clash, err := carryConflicts(w.upper(), told, tnew)
	if err != nil {
		return false, fmt.Errorf("checkout: read the uncommitted changes: %w", err)
	}
	if len(clash) == 0 {
		return true, nil
	}
	return false, &DirtyError{Changes: changesAt(changes, clash), Overwritten: true}
}

// carryConflicts walks the upper directory and returns the paths of its
// entries (sorted) that would not show the same over nu's lowers as over
// old's:
//   - an entry at a path whose entry differs between the two (a file the
//     user changed or deleted that the switch changes; a directory copied
//     up with the old lower's mode, owner and xattrs, above a change,
//     where nu gives it others; its mtime, which status ignores, is
//     passed over);
//   - a whiteout, an opaque or renamed directory, or a non-directory,
//     above a path that differs: each hides what lies below it in the
//     lowers;
//   - a renamed directory whose source differs at or below: the overlay
//     shows the source's lower content there.
func carryConflicts(upper string, old, nu tree.Tree) ([]string, error) {
	var differ []string
	for p, e := range nu {
		if o := old[p]; o == nil || !sameForCarry(o, e) {
			differ = append(differ, p)
		}
	}
	for p := range old {
		if nu[p] == nil {
			differ = append(differ, p)
		}
	}
	if len(differ) == 0 {
		return nil, nil
	}
	sort.Strings(differ)
	root, err := layer.OpenDir(upper)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	var clash []string
	buf := make([]byte, 64<<10)
	var walk func(rel string, d *layer.Dir) error
	walk = func(rel string, d *layer.Dir) error {
		names, err := d.Names()
		if err != nil {
			return err
		}
		for _, name := range names {
			crel := rel + "/" + name
			e, err := layer.Classify(d, name, true, buf)
			if err != nil {
				return fmt.Errorf("%s: %w", crel, err)
			}
			hides := e.Class != layer.Content || !e.IsDir()
			switch {
			case hasPath(differ, crel), hides && hasBelow(differ, crel):
				clash = append(clash, crel)
				continue
			case e.Class == layer.Redirect:
				src := e.Redirect
				if !strings.HasPrefix(src, "/") {
					src = path.Join(rel, src)
					if !strings.HasPrefix(src, "/") {
						src = "/" + src
					}
				}
				if hasPath(differ, src) || hasBelow(differ, src) {
					clash = append(clash, crel)
					continue
				}
			}
			if !e.IsDir() {
				continue
			}
			sub, err := d.Sub(name, &e.St)
			if err != nil {
				return err
			}
			err = walk(crel, sub)
			sub.Close()
			if err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk("", root); err != nil {
		return nil, err
	}
	sort.Strings(clash)
	return clash, nil
}

// sameForCarry is tree.SameEntry, and for a file or link its mtime too (a
// file's own mtime is content status compares); a directory's mtime,
// which any write in it moves and status does not show, is not compared.
func sameForCarry(a, b *layer.Entry) bool {
	if !tree.SameEntry(a, b) || a.Type != b.Type {
		return false
	}
	return a.Type == layer.TypeDir || a.ModTime.Equal(b.ModTime)
}

// hasPath reports whether sorted holds p.
func hasPath(sorted []string, p string) bool {
	i := sort.SearchStrings(sorted, p)
	return i < len(sorted) && sorted[i] == p
}

// hasBelow reports whether sorted holds a path below p.
func hasBelow(sorted []string, p string) bool {
	i := sort.SearchStrings(sorted, p+"/")
	return i < len(sorted) && strings.HasPrefix(sorted[i], p+"/")
}

// changesAt lists the changes at or below one of paths (sorted), which a
// refused carry names; a path with none below it (a directory copied up,
// an excluded file) is listed as modified, so that every clash is named.
func changesAt(changes []tree.Change, paths []string) []tree.Change {
	var out []tree.Change
	named := map[string]bool{}
	for _, c := range changes {
		for d := c.Path; ; d = path.Dir(d) {
			if hasPath(paths, d) {
				out = append(out, c)
				named[d] = true
				break
			}
			if d == "/" || d == "." {
				break
			}
		}
	}
	for _, p := range paths {
		if !named[p] {
			out = append(out, tree.Change{Path: p, Kind: tree.Modified})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}
