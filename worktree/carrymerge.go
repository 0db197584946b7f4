package worktree

// checkout -m: a change at a path the switch also changes is merged with
// it, three ways, as git's checkout -m merges the local file (base: the
// old commit's file, ours: the new commit's, theirs: the local one). The
// merge is written into the staged copy of the changes (upper.carry), so
// a switch killed at any step leaves what the staged carry leaves.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/strata-sh/strata/merge"
	"github.com/strata-sh/strata/merge/textmerge"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/tree"
	"golang.org/x/sys/unix"
)

// carryMerge is what a checkout -m merges the carried changes with.
type carryMerge struct {
	old, nu *objects.Commit
	// lb names the sides in conflict markers, as git's checkout -m:
	// ours is the new commit as the user named it, theirs "local", base
	// (merge.conflictStyle diff3) the branch or commit switched from.
	lb labels
	// conflicts: the files merged with conflict markers, which the
	// work tree records as unmerged once the switch is done.
	conflicts []Conflict
	// refused: the mergeable files it read and left to clash, and why
	// (binary, too big, mode or owner changed apart), for unmergeable.
	refused map[string]string
}

// mergeable returns the changed files that a switch from told to tnew
// also changes, where a text merge can settle the clash: a regular file
// on all three sides, with one name (a merge written to one name of a
// hard link would change the other too), and the same xattrs in both
// commits (an xattr is not merged).
func mergeable(res *statusResult, told, tnew tree.Tree) []tree.Change {
	var out []tree.Change
	for _, c := range res.changes {
		o, n := told[c.Path], tnew[c.Path]
		if c.Kind != tree.Modified || o == nil || n == nil || sameForCarry(o, n) {
			continue
		}
		if o.Type != layer.TypeFile || n.Type != layer.TypeFile || o.Xattrs != n.Xattrs || len(res.linked(c.Path)) > 0 {
			continue
		}
		out = append(out, c)
	}
	return out
}

// mergeCarried merges, in stage (the staged copy of the changes), each
// mergeable file with the new commit's, and returns the paths it merged:
// carryConflicts then lets them pass. Those merged with conflict markers
// are added to m.conflicts. A file that is binary (and has no merge
// driver) or over tree.MaxPatchSize on any side, or whose mode or owner
// both sides changed apart, is left as it is, to clash; m.refused says
// why.
func (w *Worktree) mergeCarried(ctx context.Context, stage string, res *statusResult, told, tnew tree.Tree, m *carryMerge) (map[string]bool, error) {
	merged := keptDeleted(res, told, tnew, m)
	files := mergeable(res, told, tnew)
	if len(files) == 0 {
		return merged, nil
	}
	wantOld, wantNew := map[string]*layer.Entry{}, map[string]*layer.Entry{}
	for _, c := range files {
		wantOld[c.Path], wantNew[c.Path] = told[c.Path], tnew[c.Path]
	}
	h := w.cache().hist
	base, err := h.ReadContents(m.old.Layers(), wantOld)
	if err != nil {
		return nil, err
	}
	theirs, err := h.ReadContents(m.nu.Layers(), wantNew)
	if err != nil {
		return nil, err
	}
	merger, err := w.fileMerger(ctx, m.lb)
	if err != nil {
		return nil, err
	}
	root, err := layer.OpenDir(stage)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	for _, c := range files {
		b, n := base[c.Path], theirs[c.Path]
		if b == nil || n == nil {
			m.refuse(c.Path, tooBig) // it clashes
			continue
		}
		conflicted, refused, err := mergeFile(root, c.Path, told[c.Path], tnew[c.Path], b, n, merger)
		if err != nil {
			return nil, fmt.Errorf("merge %s: %w", c.Path, err)
		}
		if refused != "" {
			m.refuse(c.Path, refused)
			continue
		}
		merged[c.Path] = true
		if conflicted {
			m.conflicts = append(m.conflicts, Conflict{Path: c.Path, Kind: merge.BothModified, Marked: true})
		}
	}
	sort.Slice(m.conflicts, func(i, j int) bool { return m.conflicts[i].Path < m.conflicts[j].Path })
	return merged, nil
}

// keptDeleted returns the changed files that the new commit deletes,
// in a directory it keeps: as git's checkout -m, the local file stays,
// and the path is unmerged, "deleted by us" (the new commit's side),
// until it is written again or removed, and committed. They are added
// to m.conflicts, without markers (the switch stamps them: takeUnmerged).
func keptDeleted(res *statusResult, told, tnew tree.Tree, m *carryMerge) map[string]bool {
	kept := map[string]bool{}
	for _, c := range res.changes {
		o, dir := told[c.Path], path.Dir(c.Path)
		if c.Kind != tree.Modified || o == nil || o.Type != layer.TypeFile || tnew[c.Path] != nil {
			continue
		}
		if d := tnew[dir]; dir != "/" && (d == nil || told[dir] == nil || d.Type != layer.TypeDir || !sameForCarry(told[dir], d)) {
			continue // a directory the new commit drops or changes clashes
		}
		kept[c.Path] = true
		m.conflicts = append(m.conflicts, Conflict{Path: c.Path, Kind: merge.DeletedByUs})
	}
	return kept
}

// Why checkout -m leaves a file to clash (unmergeable, mergeFile).
const (
	tooBig    = "over 8 MiB"
	binary    = "binary"
	metaClash = "mode or owner changed on both sides"
)

// refuse records that the merge leaves p to clash, and why.
func (m *carryMerge) refuse(p, why string) {
	if m.refused == nil {
		m.refused = map[string]string{}
	}
	m.refused[p] = why
}

// fileMerger merges one file's three contents (base, the new commit's,
// the local one) at a path: a merge driver the config names for it, as
// git's checkout -m runs them, or else the text merge, which a binary
// file refuses (refused: why). conflicts counts what is left unmerged.
type fileMerger func(p string, base, ours, theirs []byte) (out []byte, conflicts int, refused string, err error)

// fileMerger returns checkout -m's merge of one file, labelled lb.
func (w *Worktree) fileMerger(ctx context.Context, lb labels) (fileMerger, error) {
	opts, err := w.textMergeOptions(lb)
	if err != nil {
		return nil, err
	}
	drivers, err := w.mergeDrivers()
	if err != nil {
		return nil, err
	}
	return func(p string, base, ours, theirs []byte) ([]byte, int, string, error) {
		out, n, handled, err := w.runDriver(ctx, drivers, p, base, ours, theirs)
		if err != nil || handled {
			return out, n, "", err
		}
		if textmerge.IsBinary(base) || textmerge.IsBinary(ours) || textmerge.IsBinary(theirs) {
			return nil, 0, binary, nil
		}
		r := textmerge.Merge(base, ours, theirs, opts)
		return r.Content, r.Conflicts, "", nil
	}, nil
}

// mergeFile merges the local file at p in root (over base o, with b its
// content) with the new commit's (n, content nb), in place, and reports
// whether the merge left conflicts there; refused, if set, says why it
// left the file as it was.
func mergeFile(root *layer.Dir, p string, o, n *layer.Entry, b, nb []byte, merge fileMerger) (conflicted bool, refused string, err error) {
	d := root
	if dir := strings.TrimPrefix(path.Dir(p), "/"); dir != "" {
		var err error
		if d, err = root.OpenBeneath(dir); err != nil {
			return false, "", err
		}
		defer d.Close()
	}
	f, st, err := d.OpenFile(path.Base(p), nil)
	if err != nil {
		return false, "", err
	}
	defer f.Close()
	if st.Size > tree.MaxPatchSize {
		return false, tooBig, nil
	}
	local, err := io.ReadAll(io.LimitReader(f, tree.MaxPatchSize+1))
	if err != nil {
		return false, "", err
	}
	mode, uid, gid, ok := mergeMeta(st, o, n)
	if !ok {
		return false, metaClash, nil
	}
	out, conflicts, refused, err := merge(p, b, nb, local)
	if err != nil || refused != "" {
		return false, refused, err
	}
	if err := rewrite(f, out, mode, uid, gid, st); err != nil {
		return false, "", err
	}
	if bytes.Equal(out, nb) && mode == n.Mode && uid == n.UID && gid == n.GID {
		// The new commit's file, mtime too: no change, as in git.
		t := unix.NsecToTimespec(n.ModTime.UnixNano())
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, procFile(f), []unix.Timespec{t, t}, 0); err != nil {
			return false, "", fmt.Errorf("set the new commit's mtime: %w", err)
		}
	}
	return conflicts > 0, "", nil
}

// mergeMeta merges a file's mode and owner as git merges its mode: the
// side that changed it wins; ok is false when both changed it apart.
func mergeMeta(st unix.Stat_t, o, n *layer.Entry) (mode uint32, uid, gid int, ok bool) {
	pick := func(local, base, nu int) (int, bool) {
		switch {
		case local == base || local == nu:
			return nu, true
		case nu == base:
			return local, true
		}
		return 0, false
	}
	m, okm := pick(int(st.Mode&0o7777), int(o.Mode), int(n.Mode))
	u, oku := pick(int(st.Uid), o.UID, n.UID)
	g, okg := pick(int(st.Gid), o.GID, n.GID)
	return uint32(m), u, g, okm && oku && okg
}

// rewrite writes content over the regular file f (opened for reading,
// pinned: its /proc/self/fd link reopens the same inode, never a path
// that could have been swapped), then gives it mode and owner where st
// says it has others.
func rewrite(f *os.File, content []byte, mode uint32, uid, gid int, st unix.Stat_t) error {
	wf, err := os.OpenFile(procFile(f), os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	if _, err := wf.Write(content); err != nil {
		wf.Close()
		return err
	}
	if uid != int(st.Uid) || gid != int(st.Gid) {
		if err := wf.Chown(uid, gid); err != nil {
			wf.Close()
			return err
		}
	}
	// After chown, which clears setuid and setgid bits.
	if mode != st.Mode&0o7777 || uid != int(st.Uid) || gid != int(st.Gid) {
		if err := unix.Fchmod(int(wf.Fd()), mode); err != nil {
			wf.Close()
			return err
		}
	}
	return wf.Close()
}

// procFile is the /proc/self/fd link of f: it reaches f's inode alone.
func procFile(f *os.File) string { return "/proc/self/fd/" + strconv.Itoa(int(f.Fd())) }

// unmergeable says, in a few words, why checkout -m left the change c
// to clash with a switch from told to tnew: what its merge refused, or
// what it does not merge. Where git's checkout -m completes the switch
// (a binary file, a symbolic link, a type change: the new commit's
// version in the work tree, the local one only in the index; a deletion
// made here: dropped), a work tree, which has no index, would lose the
// local change.
func (m *carryMerge) unmergeable(c tree.Change, told, tnew tree.Tree, linked func(string) []string) string {
	if why := m.refused[c.Path]; why != "" {
		return why
	}
	o, n := told[c.Path], tnew[c.Path]
	switch {
	case c.Kind == tree.Deleted:
		return "deleted here"
	case len(linked(c.Path)) > 0:
		return "several links"
	case o == nil && n != nil:
		return "added on both sides"
	case o != nil && n == nil:
		return "deleted in a directory the new commit changes"
	case o == nil:
		return ""
	case c.New == nil || tree.KindOf(c.New.Type) != tree.KindOf(o.Type) || tree.KindOf(o.Type) != tree.KindOf(n.Type):
		return "a type change"
	case o.Type == layer.TypeSymlink:
		return "a symbolic link"
	case tree.KindOf(o.Type) != layer.TypeFile:
		return "not a regular file"
	case o.Xattrs != n.Xattrs:
		return "xattrs the commits differ in"
	case o.Type == layer.TypeHardlink || n.Type == layer.TypeHardlink:
		return "several links"
	}
	return ""
}

// mergeStaged is mergeCarried, adding the paths it merged to adopted
// (those carryConflicts lets pass), which it returns.
func (w *Worktree) mergeStaged(ctx context.Context, stage string, res *statusResult, told, tnew tree.Tree, m *carryMerge, adopted map[string]bool) (map[string]bool, error) {
	merged, err := w.mergeCarried(ctx, stage, res, told, tnew, m)
	if err != nil || len(merged) == 0 {
		return adopted, err
	}
	if adopted == nil {
		adopted = map[string]bool{}
	}
	for p := range merged {
		adopted[p] = true
	}
	return adopted, nil
}
