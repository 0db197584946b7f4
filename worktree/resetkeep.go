package worktree

import (
	"context"
	"fmt"
	"path"
	"slices"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/tree"
	"github.com/strata-sh/strata/tree/changeset"
)

// planKeep checks a reset --keep or --merge of the work tree at HEAD h
// to c, changing nothing, and returns what puts the paths a stopped step
// wrote back as HEAD has them (--merge), if any. It refuses when a path
// that differs between HEAD and c, or lies below one (keepClashes), has
// uncommitted changes, as git's refuses when a file it would update has
// local changes. The work tree has no index, so every change is a local
// one; --merge differs from --keep only over a stopped merge,
// cherry-pick, revert or rebase step: what the step wrote (its clean
// changes, conflict markers and their resolution) is dropped, as git's
// reset --merge drops what the merge staged, and the changes made beside
// it are kept.
func (w *Worktree) planKeep(ctx context.Context, st State, h refs.Head, c *objects.Commit, mode ResetMode) (undo *changeset.Set, err error) {
	verb := "reset --keep"
	if mode == ResetMerge {
		verb = "reset --merge"
	}
	switch {
	case h.Broken != nil:
		return nil, fmt.Errorf("%s: the current branch is broken: %w", verb, h.Broken)
	case h.Commit == "":
		return nil, fmt.Errorf("%s: the branch has no commits yet", verb)
	case h.Commit != st.Commit:
		return nil, fmt.Errorf("%s: %w", verb, ErrHeadMoved)
	}
	old, err := w.commit(st.Commit)
	if err != nil {
		return nil, err
	}
	changes, err := w.scanChanges(ctx, st)
	if err != nil {
		return nil, err
	}
	if mode == ResetMerge {
		if undo, err = w.stepWrites(ctx, st); err != nil {
			return nil, err
		}
		if undo != nil {
			changes = withoutPaths(changes, undo.Paths)
		}
	}
	told, tnew, err := w.treesOf(old, c)
	if err != nil {
		return nil, err
	}
	differ := changeset.New(told, tnew, nil).Paths
	if clash := keepClashes(changes, differ, told, tnew); len(clash) > 0 {
		return nil, fmt.Errorf("%s %s: %w would be overwritten: %s; commit them, put them aside with 'strata stash', or drop them with 'strata reset --hard'", verb, short(c.ID), ErrDirty, changeList(clash))
	}
	return undo, nil
}

// keepClashes returns the changes that a reset --keep across differ
// (the sorted paths whose entries differ between told and tnew) would
// overwrite or hide: a change at a path of differ, above one, or below
// one that is no directory on both sides. A deletion clashes only where
// REV brings something at or below it (bringsAtOrBelow): what REV
// deletes too, or leaves as it was, git's reset --keep carries. A
// directory above a change whose mode, owner or mtime alone differ is
// written over the change's head, which stays: git keeps no
// directories, and status shows no directory's mtime, which any file
// made in it moves. A directory REV deletes stays for a change below it
// (keepChangeSet), as git leaves it to the untracked files in it; one
// the user made where REV makes one takes REV's files (joinsDir).
func keepClashes(changes []tree.Change, differ []string, told, tnew tree.Tree) []tree.Change {
	var out []tree.Change
	for _, c := range changes {
		if c.Kind == tree.Deleted {
			if bringsAtOrBelow(differ, told, tnew, c.Path) {
				out = append(out, c)
			}
			continue
		}
		clash := (hasPath(differ, c.Path) || hasBelow(differ, c.Path)) && !joinsDir(c, told, tnew)
		for d := path.Dir(c.Path); !clash && d != "/" && d != "."; d = path.Dir(d) {
			// The view has a directory at d: REV's clashes unless a
			// directory too, or none (a directory REV deletes stays).
			clash = hasPath(differ, d) && tnew[d] != nil && tnew[d].Type != layer.TypeDir
		}
		if clash {
			out = append(out, c)
		}
	}
	return out
}

// joinsDir reports whether c adds a directory where REV (tnew) adds one
// too: REV's files are written into it beside the user's, as git writes
// them beside untracked files, and each of those is a change of its own.
func joinsDir(c tree.Change, told, tnew tree.Tree) bool {
	return c.Kind == tree.Added && c.New != nil && c.New.Type == layer.TypeDir && told[c.Path] == nil &&
		tnew[c.Path] != nil && tnew[c.Path].Type == layer.TypeDir
}

// leftDir reports whether o is a directory and n nothing: a directory
// a switch deletes, which a change below it keeps.
func leftDir(o, n *layer.Entry) bool {
	return o != nil && o.Type == layer.TypeDir && n == nil
}

// bothDirs reports whether a and b are both directories.
func bothDirs(a, b *layer.Entry) bool {
	return a != nil && b != nil && a.Type == layer.TypeDir && b.Type == layer.TypeDir
}

// refuseKeepMidStep refuses reset --keep while a merge, cherry-pick,
// revert or rebase is stopped on its conflicts, as git's refuses "in
// the middle of a merge": what the step wrote is not the user's to keep.
// Once reset --merge or --hard dropped them, it goes on, as git's.
func refuseKeepMidStep(w *Worktree) error {
	s, ok, err := w.Sequence()
	if err != nil || !ok || !s.Stopped || len(s.Conflicts)+len(s.ConfigConflicts) == 0 {
		return err
	}
	return fmt.Errorf("reset --keep: a %s is stopped here on its conflicts; 'strata reset --merge' drops what it wrote and keeps your other changes, 'strata %s --abort' ends it", s.Op, s.Op)
}

// stepWrites returns what puts the paths a stopped step wrote into the
// work tree back as HEAD has them, or nil when no step is stopped here
// with its changes written.
func (w *Worktree) stepWrites(ctx context.Context, st State) (*changeset.Set, error) {
	s, ok, err := w.Sequence()
	if err != nil || !ok || !s.Stopped || !s.Applied || st.Commit != s.Head || st.Stacked {
		return nil, err
	}
	id := s.Theirs
	if len(s.Todo) > 0 {
		id = s.Todo[0]
	}
	o, _, err := w.step(ctx, s, id)
	if err != nil {
		return nil, err
	}
	undo := changeset.New(conflictedResult(o), o.tours, nil, o.ours.Layers())
	// A conflicted file's entry may be ours' own: its markers are content.
	for p := range o.content {
		undo.Paths = append(undo.Paths, p)
	}
	slices.Sort(undo.Paths)
	undo.Paths = slices.Compact(undo.Paths)
	return undo, nil
}

// withoutPaths drops the changes at one of paths (sorted).
func withoutPaths(changes []tree.Change, paths []string) []tree.Change {
	in := make(map[string]bool, len(paths))
	for _, p := range paths {
		in[p] = true
	}
	var out []tree.Change
	for _, c := range changes {
		if !in[c.Path] {
			out = append(out, c)
		}
	}
	return out
}

// writeKeep writes cs (nil: nothing) through the mount, for reset --keep
// and --merge.
func (w *Worktree) writeKeep(ctx context.Context, cs *changeset.Set) error {
	if cs == nil {
		return nil
	}
	if err := w.writeThrough(ctx, cs); err != nil {
		return fmt.Errorf("reset: %w", err)
	}
	return nil
}

// finishKeep ends a reset --keep or --merge once the work tree is
// mounted on its commit with the old upper, showing the old HEAD's
// files: it writes the commit's files where the two differ (planKeep
// found no local change there). Written again after a kill, they come
// out the same.
func (w *Worktree) finishKeep(ctx context.Context, st *State) error {
	if st.KeepFrom == "" || st.Pending != "" {
		return nil
	}
	old, err := w.commit(st.KeepFrom)
	if err != nil {
		return err
	}
	c, err := w.commit(st.Commit)
	if err != nil {
		return err
	}
	told, tnew, err := w.treesOf(old, c)
	if err != nil {
		return err
	}
	testHook("reset-keep-moved")
	cs, err := keepChangeSet(w.target, told, tnew, c.Layers())
	if err != nil {
		return fmt.Errorf("reset: %w", err)
	}
	if err := w.writeKeep(ctx, cs); err != nil {
		return err
	}
	st.KeepFrom = ""
	return w.writeState(*st)
}
