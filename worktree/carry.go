package worktree

// Carrying uncommitted changes across a switch, as git's checkout does:
// the same upper is mounted over the new commit's lowers. That shows the
// new commit with exactly the user's changes only where nothing the
// upper holds meets what differs between the two commits.

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/tree"
	"golang.org/x/sys/unix"
)

// carryMode is how a switch keeps the uncommitted changes.
type carryMode int

const (
	carryNone   carryMode = iota // a clean tree: nothing to carry
	carryUpper                   // the same upper is mounted over the new lowers
	carryStaged                  // a fresh upper is made of the changes alone (State.CarryStaged)
)

// planCarry decides how a switch from the commit st is at to c keeps the
// uncommitted changes, or refuses it: a DirtyError naming the changes
// that would be overwritten, or all of them where strata cannot carry
// any (a merge or rebase stopped here, an unborn side).
//
// The upper is carried as it is when nothing in it meets what differs
// between the two commits. Otherwise, and on a stacked mount (whose upper
// also holds what was committed since its mount), the changes alone are
// copied out of the view into upper.carry: entries equal to the old
// commit (a file written back, a restore's copy) and excluded ones are
// then no longer in the way, as in git, where they are no change.
//
// With m (checkout -m), a changed file the switch changes too is merged
// with the new commit's in that copy (mergeCarried) and no longer clashes.
func (w *Worktree) planCarry(ctx context.Context, st State, c *objects.Commit, m *carryMerge) (carryMode, error) {
	// A stacked mount is always copied: scanned once, for the copy too.
	var res *statusResult
	var changes []tree.Change
	var err error
	if st.Stacked {
		if res, err = w.scan(ctx, st); err == nil {
			changes = res.changes
		}
	} else {
		changes, err = w.scanChanges(ctx, st)
	}
	if err != nil || len(changes) == 0 {
		return carryNone, err
	}
	refuse := &DirtyError{Changes: changes}
	if s, ok, err := w.Sequence(); err != nil {
		return carryNone, err
	} else if ok {
		refuse.Op = s.Op
		return carryNone, refuse
	}
	// An unborn side has no tree to compare.
	if st.Commit == "" || c == nil {
		return carryNone, refuse
	}
	old, err := w.commit(st.Commit)
	if err != nil {
		return carryNone, err
	}
	told, tnew, err := w.treesOf(old, c)
	if err != nil {
		return carryNone, err
	}
	if !st.Stacked {
		clash, err := carryConflicts(w.upper(), told, tnew, nil)
		if err != nil {
			return carryNone, fmt.Errorf("checkout: read the uncommitted changes: %w", err)
		}
		if len(clash) == 0 {
			return carryUpper, nil
		}
		// A plain directory the copy can give the new mode, or drop, is
		// left to it.
		adopt := adoptableDirs(clash, changes, told, tnew)
		maps.Copy(adopt, leftDirsIn(clash, told, tnew))
		adopt, err = plainDirs(w.upper(), adopt)
		if err != nil {
			return carryNone, fmt.Errorf("checkout: read the uncommitted changes: %w", err)
		}
		rest := withoutPathsIn(clash, adopt)
		if changed := clashesWithChanges(changes, rest); len(changed) > 0 && m == nil {
			return carryNone, &DirtyError{Changes: changesAt(changes, changed, nil), Overwritten: true}
		}
	}
	if m != nil {
		m.old, m.nu = old, c
	}
	clash, res, err := w.stageCarry(ctx, st, res, told, tnew, c.Layers(), false, m)
	if err != nil {
		return carryNone, err
	}
	if len(clash) > 0 {
		de := &DirtyError{Changes: changesAt(changes, clash, res.linked), Overwritten: true}
		if m != nil {
			de.Merge, de.Why = true, map[string]string{}
			for _, c := range de.Changes {
				de.Why[c.Path] = m.unmergeable(c, told, tnew, res.linked)
			}
		}
		return carryNone, de
	}
	return carryStaged, nil
}

// stageCarry copies the uncommitted changes out of the mounted view into
// upper.carry, as an upper over told's lowers, and returns what in it
// clashes with a switch to tnew, the tree of layers (carryConflicts);
// with a clash, nothing is left staged. res is the scan of st's upper,
// nil to make it here; the scan is returned. A restage (restageCarry) stages whatever clashes, and
// replaces the copy there only once the new one is whole: the next
// command finishes the switch from whichever it finds.
func (w *Worktree) stageCarry(ctx context.Context, st State, res *statusResult, told, tnew tree.Tree, layers []objects.Layer, restage bool, m *carryMerge) ([]string, *statusResult, error) {
	if res == nil {
		var err error
		if res, err = w.scan(ctx, st); err != nil {
			return nil, nil, err
		}
	}
	dir := w.carryDir()
	tmp := dir + ".tmp"
	stale := []string{dir, tmp}
	if restage {
		stale = stale[1:]
	}
	for _, d := range stale {
		if err := os.RemoveAll(d); err != nil {
			return nil, nil, fmt.Errorf("checkout: %w", err)
		}
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return nil, nil, fmt.Errorf("checkout: %w", err)
	}
	exclude, whiteouts := viewChanges(res)
	if err := w.stageView(ctx, exclude, whiteouts, tmp); err != nil {
		os.RemoveAll(tmp)
		return nil, nil, fmt.Errorf("checkout: carry the uncommitted changes: %w", err)
	}
	adopted, err := adoptDirs(tmp, res.changes, told, tnew, func(dirs []string) error {
		return w.writeEntries(ctx, tmp, dirs, told, tnew, layers)
	})
	if err == nil && m != nil {
		adopted, err = w.mergeStaged(ctx, tmp, res, told, tnew, m, adopted)
	}
	if err != nil {
		os.RemoveAll(tmp)
		return nil, nil, fmt.Errorf("checkout: carry the uncommitted changes: %w", err)
	}
	clash, err := carryConflicts(tmp, told, tnew, adopted)
	if err == nil {
		clash, err = pruneEmptied(tmp, clash, told, tnew)
	}
	switch {
	case err != nil, len(clash) > 0 && !restage:
		// Nothing to stage.
	case restage:
		// tmp then holds the copy replaced, removed below.
		err = unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, dir, unix.RENAME_EXCHANGE)
		testHook("checkout-carry-restaged")
	default:
		// Complete: the next command may find it (State.CarryStaged).
		if err = os.Rename(tmp, dir); err == nil {
			testHook("checkout-carry-staged")
		}
	}
	if err != nil || len(clash) > 0 || restage {
		os.RemoveAll(tmp)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("checkout: carry the uncommitted changes: %w", err)
	}
	return clash, res, nil
}

// restageCarry copies the uncommitted changes out of the view again for
// a switch to c that staged them and was killed after HEAD moved, before
// its mount took the view's place: what was written in the view since
// (it still showed st's commit) was in none of the staged copy, and went
// with the old upper. HEAD has moved, so a clash no longer refuses the
// switch: the changes are carried over it, and status shows them.
func (w *Worktree) restageCarry(ctx context.Context, st *State, c *objects.Commit) error {
	old, err := w.commit(st.Commit)
	if err != nil {
		return err
	}
	told, tnew, err := w.treesOf(old, c)
	if err != nil {
		return err
	}
	var m *carryMerge
	if st.PendingMerge != "" {
		// Merged again from the view, which still shows st's commit.
		m = &carryMerge{old: old, nu: c, lb: labels{ours: st.PendingMerge, base: st.PendingMergeBase, theirs: "local"}}
	}
	clash, _, err := w.stageCarry(ctx, *st, nil, told, tnew, c.Layers(), true, m)
	if err != nil {
		return err
	}
	if m != nil {
		// The conflicts of this merge, not the first one's. Killed
		// before this is written, the next command merges again.
		st.PendingUnmerged = m.conflicts
		if err := w.writeState(*st); err != nil {
			return err
		}
	}
	if len(clash) > 0 {
		slog.Warn("an interrupted switch carries changes made since over paths it changes", "paths", clash)
	}
	return nil
}

// finishStagedCarry records a switch that carried its changes in a fresh
// upper, killed once that upper had taken the old one's place, and
// mounts it if nothing is mounted.
func (w *Worktree) finishStagedCarry(ctx context.Context, st State, c *objects.Commit, mounted bool) (State, error) {
	if !mounted {
		if err := w.mount(ctx, c, w.upper(), w.work(), false); err != nil {
			return st, err
		}
	}
	st.Commit, st.Pending, st.Stacked, st.Base, st.CarryStaged, st.PendingMerge, st.PendingMergeBase = c.ID, "", false, "", false, "", ""
	if err := w.takeUnmerged(&st); err != nil {
		return st, err
	}
	return st, w.writeState(st)
}

// atOrBelow returns the path of sorted that p is at or below.
func atOrBelow(sorted []string, p string) (string, bool) {
	for d := p; ; d = path.Dir(d) {
		if hasPath(sorted, d) {
			return d, true
		}
		if d == "/" || d == "." {
			return "", false
		}
	}
}

// exists reports whether something is at p.
func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// clashesWithChanges returns the paths of clash (sorted) with a change at
// or below them: the others are upper entries that status does not show
// (copies equal to the commit, excluded paths).
func clashesWithChanges(changes []tree.Change, clash []string) []string {
	paths := make([]string, len(changes))
	for i, c := range changes {
		paths[i] = c.Path
	}
	sort.Strings(paths)
	var out []string
	for _, p := range clash {
		if hasPath(paths, p) || hasBelow(paths, p) || p == "/" {
			out = append(out, p)
		}
	}
	return out
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
//     above a path that differs and that nu has: each hides what lies
//     below it in the lowers (a path nu lacks is deleted on both sides:
//     a deleted directory that the switch only empties in part is
//     carried, as git carries the deletions of its files);
//   - a renamed directory whose source differs at or below: the overlay
//     shows the source's lower content there;
//   - (not a plain directory old lacks and nu has: the two show merged);
//   - a directory nu deletes (a plain one: not opaque or renamed) that
//     holds nothing but whiteouts and copies of old's directories. One
//     that holds a change is no clash: nothing of nu's lies there, and
//     it shows what it holds, as git leaves a directory it deletes to
//     the untracked files in it.
//
// The directories of adopted were given nu's mode, owner and xattrs (adoptDirs):
// no clash at them.
func carryConflicts(upper string, old, nu tree.Tree, adopted map[string]bool) ([]string, error) {
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
	// walk reports whether d holds anything but whiteouts, at any depth.
	var walk func(rel string, d *layer.Dir) (bool, error)
	walk = func(rel string, d *layer.Dir) (bool, error) {
		names, err := d.Names()
		if err != nil {
			return false, err
		}
		holds := false
		for _, name := range names {
			crel := rel + "/" + name
			e, err := layer.Classify(d, name, true, buf)
			if err != nil {
				return false, fmt.Errorf("%s: %w", crel, err)
			}
			hides := e.Class != layer.Content || !e.IsDir()
			if e.Class != layer.Whiteout && (hides || old[crel] == nil) {
				holds = true // not a copy of old's directory
			}
			// A directory the switch deletes, kept for what it holds.
			leftDir := false
			switch {
			case e.Class == layer.Whiteout:
				// Deleted here: git's checkout carries a deletion of
				// what the switch deletes or leaves as it was (not of a
				// file it changes, nor of a directory it adds to).
				if bringsAtOrBelow(differ, old, nu, crel) {
					clash = append(clash, crel)
				}
				continue
			case adopted[crel]:
			case !hides && nu[crel] == nil && old[crel] != nil && old[crel].Type == layer.TypeDir:
				// Nothing of nu's lies at or below it: it shows what it
				// holds, as git leaves a directory it deletes to the
				// untracked files in it. Unless it holds none (below).
				leftDir = true
			case !hides && old[crel] == nil && nu[crel] != nil && nu[crel].Type == layer.TypeDir:
				// The user's new directory where nu makes one: the two
				// show merged, as git adds the new commit's files beside
				// the untracked ones.
			case hasPath(differ, crel), hides && bringsAtOrBelow(differ, old, nu, crel):
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
				return false, err
			}
			subHolds, err := walk(crel, sub)
			sub.Close()
			if err != nil {
				return false, err
			}
			if leftDir && !subHolds {
				// Deletions alone: git leaves no directory there, this
				// would show an empty one.
				clash = append(clash, crel)
			}
			holds = holds || subHolds
		}
		return holds, nil
	}
	if _, err := walk("", root); err != nil {
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

// bringsAtOrBelow reports whether a switch from old to nu brings
// something at or below p, which an upper entry there hides: a path of
// differ (sorted) that nu has. A path nu lacks is deleted on both sides;
// p itself, a directory on both sides, differs in what git keeps none of
// (mode, owner).
func bringsAtOrBelow(differ []string, old, nu tree.Tree, p string) bool {
	if hasPath(differ, p) && nu[p] != nil && !bothDirs(old[p], nu[p]) {
		return true
	}
	for i := sort.SearchStrings(differ, p+"/"); i < len(differ) && strings.HasPrefix(differ[i], p+"/"); i++ {
		if nu[differ[i]] != nil {
			return true
		}
	}
	return false
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
// refused carry names, and those whose other names (linked, nil for
// none: the hard links the copy keeps with a change) lie there; a path
// with none (a directory copied up, an excluded file) is listed as
// modified, so that every clash is named.
func changesAt(changes []tree.Change, paths []string, linked func(string) []string) []tree.Change {
	var out []tree.Change
	named := map[string]bool{}
	for _, c := range changes {
		names := []string{c.Path}
		if linked != nil && c.Kind != tree.Deleted {
			names = append(names, linked(c.Path)...)
		}
		hit := false
		for _, n := range names {
			if d, ok := atOrBelow(paths, n); ok {
				named[d], hit = true, true
			}
		}
		if hit {
			out = append(out, c)
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

// restageInterrupted is restageCarry for an interrupted switch whose
// staged changes have not replaced the mounted view's upper yet: the
// view, still mounted, may hold changes made since they were staged.
func (w *Worktree) restageInterrupted(ctx context.Context, st *State, c *objects.Commit) error {
	if !st.CarryStaged || !exists(w.carryDir()) || exists(filepath.Join(w.Dir, "upper.next")) {
		return nil
	}
	mounted, err := w.isMounted()
	if err != nil || !mounted {
		return err // unmounted, the upper took no writes since
	}
	if err := w.restageCarry(ctx, st, c); err != nil {
		return fmt.Errorf("checkout: finish the interrupted switch: %w", err)
	}
	return nil
}
