package worktree

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/tree"
)

// DiffOptions choose what a diff compares: no revision, the work tree
// against the commit it is based on; one, that revision against the work
// tree; two, the revisions, from their file indexes alone.
type DiffOptions struct {
	Revs     []string
	Paths    []string // absolute, clean; none: everything
	Contents bool     // read the changed files' content (patches, --stat)
	// Parent, with one revision: that commit against its first parent,
	// or against nothing for a root commit (show --stat).
	Parent bool
	// Renames, when set, finds the renames among the changes
	// (tree.FindRenames; Read is filled in here).
	Renames *tree.RenameOptions
}

// Diff is what changed, in path order, and with Contents the files'
// content on each side (regular files up to tree.MaxPatchSize).
type Diff struct {
	Changes  []tree.Change
	Old, New map[string][]byte
	// RenameLimit: when the rename limit stopped the comparison of
	// files by content, the limit that would not have (git's warning).
	RenameLimit tree.RenameLimit
	// from, to, h and tmp stream a side's file (LineText).
	from, to side
	h        *tree.History
	tmp      string
}

// side is one end of a diff: a revision, or the work tree.
type side struct {
	commit *objects.Commit // nil with work: the work tree's base
	work   *Worktree
}

// Diff compares o.Revs (at most two) and the work tree.
func (w *Worktree) Diff(ctx context.Context, o DiffOptions) (*Diff, error) {
	trees := tree.NewTrees(w.Repo.Objects)
	var changes []tree.Change
	var from, to side
	switch {
	case o.Parent && len(o.Revs) == 1:
		b, err := w.Resolve(o.Revs[0])
		if err != nil {
			return nil, err
		}
		var a *objects.Commit // nil: a root commit's, nothing
		ta := tree.Tree{}
		if p, err := w.Repo.Objects.Parent(b.ID); err != nil {
			return nil, err
		} else if p != "" {
			if a, err = w.Repo.Objects.ReadCommit(p); err != nil {
				return nil, err
			}
			if ta, err = trees.Of(a); err != nil {
				return nil, err
			}
		}
		tb, err := trees.Of(b)
		if err != nil {
			return nil, err
		}
		changes = tree.DiffTrees(ta, tb, o.Paths)
		from, to = side{commit: a}, side{commit: b}
	case len(o.Revs) == 0:
		cs, err := w.Status(ctx)
		if err != nil {
			return nil, err
		}
		base, err := w.BaseCommit(ctx)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			if tree.Under(c.Path, o.Paths) {
				changes = append(changes, c)
			}
		}
		from, to = side{commit: base}, side{work: w}
	case len(o.Revs) == 1:
		a, err := w.Resolve(o.Revs[0])
		if err != nil {
			return nil, err
		}
		ta, err := trees.Of(a)
		if err != nil {
			return nil, err
		}
		tw, _, err := w.WorkTree(ctx)
		if err != nil {
			return nil, err
		}
		changes = tree.DiffTrees(ta, tw, o.Paths)
		from, to = side{commit: a}, side{work: w}
	default:
		a, err := w.Resolve(o.Revs[0])
		if err != nil {
			return nil, err
		}
		b, err := w.Resolve(o.Revs[1])
		if err != nil {
			return nil, err
		}
		if changes, err = tree.DiffRevisions(trees, a, b, o.Paths); err != nil {
			return nil, err
		}
		from, to = side{commit: a}, side{commit: b}
	}
	h := tree.NewHistory(w.Repo.Objects)
	d := &Diff{Changes: changes, from: from, to: to, h: h, tmp: filepath.Join(w.Repo.Root, "tmp")}
	if o.Contents {
		var err error
		if d.Old, err = contents(h, from, changes, false); err != nil {
			return nil, err
		}
		if d.New, err = contents(h, to, changes, true); err != nil {
			return nil, err
		}
	}
	if o.Renames != nil {
		ro := *o.Renames
		// What -p and --stat read is read once; the rest (all without
		// Contents; unmodified files) from the layers or the work tree.
		ro.Read = func(old bool, want map[string]*layer.Entry, each func(string, []byte)) error {
			s, read := to, d.New
			if old {
				s, read = from, d.Old
			}
			rest := map[string]*layer.Entry{}
			for p, e := range want {
				if b, ok := read[p]; ok {
					each(p, b)
				} else {
					rest[p] = e
				}
			}
			if len(rest) == 0 {
				return nil
			}
			return s.each(h, rest, each)
		}
		if ro.Copies && ro.Harder && from.commit != nil {
			// --find-copies-harder: the old side's files are sources too.
			t, err := trees.Of(from.commit)
			if err != nil {
				return nil, err
			}
			ro.Unmodified = tree.UnmodifiedFiles(t, d.Changes, o.Paths)
		}
		var err error
		if d.Changes, d.RenameLimit, err = tree.FindRenames(d.Changes, ro); err != nil {
			return nil, fmt.Errorf("renames: %w", err)
		}
		if o.Contents {
			// A copy's source the changes leave as it was: its content.
			want := map[string]*layer.Entry{}
			for _, c := range d.Changes {
				if _, ok := d.Old[c.OldPath]; c.Kind == tree.Copied && !ok {
					want[c.OldPath] = c.Old
				}
			}
			if err := from.each(h, want, func(p string, b []byte) { d.Old[p] = b }); err != nil {
				return nil, err
			}
		}
	}
	return d, nil
}

// LineText reads the file e at p, on the old side or the new, as --stat
// counts its lines (tree.LineText): streamed from the work tree, or from
// the layer that holds it (held in a temporary file, not memory, until
// its digest is checked), so that a file over tree.MaxPatchSize, which
// Old and New leave out, is counted without being held.
func (d *Diff) LineText(old bool, p string, e *layer.Entry) (*tree.LineText, error) {
	s := d.to
	if old {
		s = d.from
	}
	t := &tree.LineText{}
	switch {
	case e == nil || tree.KindOf(e.Type) != layer.TypeFile:
	case s.work != nil:
		f, err := openInTree(s.work.target, p)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if _, err := io.Copy(t, f); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
	case s.commit != nil:
		if err := d.h.WriteFile(s.commit.Layers(), p, e, d.tmp, t); err != nil {
			return nil, err
		}
	}
	return t, t.Close()
}

// LineTexts is LineText of each file want names (path to entry) on one
// side: from the work tree one after the other, from a commit's layers
// with each layer that holds some of them streamed once
// (tree.History.CopyFiles), not once a file.
func (d *Diff) LineTexts(old bool, want map[string]*layer.Entry) (map[string]*tree.LineText, error) {
	s := d.to
	if old {
		s = d.from
	}
	out := make(map[string]*tree.LineText, len(want))
	if s.commit == nil {
		for p, e := range want {
			t, err := d.LineText(old, p, e)
			if err != nil {
				return nil, err
			}
			out[p] = t
		}
		return out, nil
	}
	err := d.h.CopyFiles(s.commit.Layers(), want, d.tmp, func(p string) io.WriteCloser {
		out[p] = &tree.LineText{}
		return out[p]
	})
	if err != nil {
		return nil, err
	}
	for p := range want {
		if out[p] == nil {
			out[p] = &tree.LineText{} // not a file: no lines, as LineText
		}
	}
	return out, nil
}

// each gives the files want names on this side to each, one at a time.
func (s side) each(h *tree.History, want map[string]*layer.Entry, each func(string, []byte)) error {
	switch {
	case s.work != nil:
		for p, e := range want {
			b, err := ReadWorkFile(s.work, p, e)
			if err != nil {
				return err
			}
			if b != nil {
				each(p, b)
			}
		}
		return nil
	case s.commit != nil:
		return h.EachContent(s.commit.Layers(), want, each)
	}
	return nil // a root commit's parent: nothing
}

// contents reads the files of one side of the changes (new: their new
// entries) for patches and --stat.
func contents(h *tree.History, s side, changes []tree.Change, new bool) (map[string][]byte, error) {
	entry := func(c tree.Change) *layer.Entry {
		if new {
			return c.New
		}
		return c.Old
	}
	if s.commit == nil && s.work == nil {
		return map[string][]byte{}, nil // a root commit's parent: nothing
	}
	if s.work != nil {
		out := map[string][]byte{}
		for _, c := range changes {
			b, err := ReadWorkFile(s.work, c.Path, entry(c))
			if err != nil {
				return nil, err
			}
			out[c.Path] = b
		}
		return out, nil
	}
	want := map[string]*layer.Entry{}
	for _, c := range changes {
		if e := entry(c); e != nil {
			want[c.Path] = e
		}
	}
	return h.ReadContents(s.commit.Layers(), want)
}
