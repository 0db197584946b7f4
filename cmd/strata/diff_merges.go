package main

import (
	"bufio"
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/tree"
	"github.com/strata-sh/strata/worktree"
)

// mergeDiff is how log and show show a merge's changes, git's
// --diff-merges: not at all, against the first parent, against each
// parent in turn, or as a combined diff (dense: git's --cc).
type mergeDiff int

const (
	mergeDefault mergeDiff = iota // log: off (first-parent with --first-parent); show: dense
	mergeOff
	mergeFirstParent
	mergeSeparate
	mergeCombined
	mergeDense
)

// mergeFlags are -m, -c, --cc, --diff-merges and --no-diff-merges as
// given: the last decides, as git's. When no view is given, as git's,
// -c and --cc ask for -p (implied: every commit's), --diff-merges but
// off for a merge's -p (mergesOnly), -m and off for none.
type mergeFlags struct {
	mode                mergeDiff
	implied, mergesOnly bool
}

// mergeFlag is one of them, setting mergeFlags when given.
type mergeFlag struct {
	f    *mergeFlags
	name string // "m", "c", "cc", "no", or "" for --diff-merges=VALUE
}

func (m mergeFlag) String() string { return "" }
func (m mergeFlag) Type() string {
	if m.name == "" {
		return "FORMAT"
	}
	return "bool"
}

func (m mergeFlag) Set(v string) error {
	if m.name != "" && v != "true" {
		return fmt.Errorf("takes no value")
	}
	m.f.implied, m.f.mergesOnly = false, false
	switch m.name {
	case "m":
		m.f.mode = mergeSeparate
		return nil
	case "c":
		m.f.mode, m.f.implied = mergeCombined, true
		return nil
	case "cc":
		m.f.mode, m.f.implied = mergeDense, true
		return nil
	case "no":
		m.f.mode = mergeOff
		return nil
	}
	switch v {
	case "off", "none":
		m.f.mode = mergeOff
		return nil
	case "on", "separate", "m":
		m.f.mode = mergeSeparate
	case "first-parent", "1":
		m.f.mode = mergeFirstParent
	case "combined", "c":
		m.f.mode = mergeCombined
	case "dense-combined", "cc":
		m.f.mode = mergeDense
	case "remerge", "r":
		return fmt.Errorf("remerge is not supported: use first-parent, separate, combined or dense-combined")
	default:
		return fmt.Errorf("want off, first-parent, separate, combined or dense-combined, not %q", v)
	}
	m.f.mergesOnly = true
	return nil
}

// views are the views of a commit (non-merges: o) and of a merge as
// the flags ask, when no view is given: -p for both with -c and --cc,
// for a merge alone with --diff-merges; none with -m or off.
func (f mergeFlags) views(o diffOptions) (commits, merges diffOptions) {
	if !o.any() && (f.implied || f.mergesOnly) {
		merges = o
		merges.patch = true
		if f.implied {
			return merges, merges
		}
		return o, merges
	}
	return o, o
}

// add adds the flags to cmd; what is "each merge" (log) or "a merge".
func (f *mergeFlags) add(cmd *cobra.Command) {
	fs := cmd.Flags()
	for _, fl := range []struct{ name, short, mode, usage string }{
		// As -S and -G: the long name is the letter, so that -m and -c
		// need none of their own.
		{"m", "m", "m", "a merge's diff against each parent in turn, as git's -m (with -p or another view)"},
		{"c", "c", "c", "a merge's combined diff: the paths that differ from every parent, one column each (implies -p)"},
		{"cc", "", "cc", "a merge's dense combined diff: -c without the hunks that take one parent's lines as they were (implies -p)"},
		{"no-diff-merges", "", "no", "no diff for merges"},
	} {
		flag := fs.VarPF(mergeFlag{f, fl.mode}, fl.name, fl.short, fl.usage)
		flag.NoOptDefVal = "true"
	}
	fs.Var(mergeFlag{f, ""}, "diff-merges", "how a merge's changes are shown: off, first-parent, separate, combined or dense-combined (implies a merge's -p)")
}

// resolve is the format a merge is shown in: given, or the default
// (log: none, or the first parent's with --first-parent; show: dense).
func (f mergeFlags) resolve(show, firstParent bool) mergeDiff {
	switch {
	case firstParent && (f.mode == mergeDefault || f.mode == mergeSeparate):
		// As git's: --first-parent makes -m the first parent's too.
		return mergeFirstParent
	case f.mode != mergeDefault:
		return f.mode
	case firstParent:
		return mergeFirstParent
	case show:
		return mergeDense
	}
	return mergeOff
}

// writeCombined writes a merge's views as git's combined diff does:
// --numstat, --stat, --shortstat and --summary against the first parent,
// then, when paths differ from every parent, a blank line (NUL with
// -z) if those printed, and the combined patch of each (-p).
func writeCombined(ctx context.Context, w io.Writer, r *repo.Repo, c *objects.Commit, paths []string, o diffOptions, dense bool) error {
	if o.numstat || o.stat || o.shortstat || o.summary {
		d, err := worktree.Main(r).Diff(ctx, worktree.DiffOptions{Revs: []string{c.ID.String()}, Parent: true, Paths: paths, Contents: o.contents(), Renames: o.renames})
		if err != nil {
			return err
		}
		// As git 2.39's combined diff, no rename-limit warning: it
		// gives none for this first parent's diff either.
		stat := o
		stat.patch = false
		if err := printViews(w, d, stat); err != nil {
			return err
		}
	}
	if !o.patch {
		return nil
	}
	ps, err := mergePaths(ctx, r, c, paths, o.renames, true)
	if err != nil {
		return err
	}
	if len(ps) > 0 && (o.numstat || o.stat || o.shortstat || o.summary) {
		io.WriteString(w, map[bool]string{false: "\n", true: "\x00"}[o.nul])
	}
	for _, p := range ps {
		if err := tree.WriteCombined(w, p.path, p.result, p.parents, tree.CombinedOptions{Context: o.context(), Dense: dense, Color: o.color, Lines: o.lines}); err != nil {
			return err
		}
	}
	return nil
}

// mergePath is one path of a merge's combined diff: the result and each
// parent (with its status letter against it).
type mergePath struct {
	path    string
	result  tree.CombinedSide
	parents []tree.CombinedSide
}

// mergePaths are the paths of merge c (under paths) that differ from
// every parent, as git's combined diff finds them: renames found
// against each parent as renames says (nil: none), a file renamed on
// one side its parent's old content and "R" against it; files and
// symlinks only (git tracks no directory); with contents, their
// content on each side.
func mergePaths(ctx context.Context, r *repo.Repo, c *objects.Commit, paths []string, renames *tree.RenameOptions, contents bool) ([]mergePath, error) {
	var out []mergePath
	at := map[string]int{}
	for i, pid := range c.Parents() {
		d, err := worktree.Main(r).Diff(ctx, worktree.DiffOptions{Revs: []string{pid.String(), c.ID.String()}, Paths: paths, Contents: contents, Renames: renames})
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, ch := range d.Changes {
			if !patchable(ch.Old) && !patchable(ch.New) {
				continue
			}
			side := tree.CombinedSide{Entry: ch.Old, Content: d.Old[oldPath(ch)], Status: byte(ch.Kind)}
			if i == 0 {
				at[ch.Path] = len(out)
				out = append(out, mergePath{path: ch.Path, result: tree.CombinedSide{Entry: ch.New, Content: d.New[ch.Path]}, parents: []tree.CombinedSide{side}})
				seen[ch.Path] = true
				continue
			}
			if k, ok := at[ch.Path]; ok && len(out[k].parents) == i {
				out[k].parents = append(out[k].parents, side)
				seen[ch.Path] = true
			}
		}
		kept := out[:0]
		for _, p := range out {
			if seen[p.path] {
				kept = append(kept, p)
			}
		}
		out = kept
		for k, p := range out {
			at[p.path] = k
		}
	}
	return out, nil
}

// patchable: an entry git could hold, a file or a symlink.
func patchable(e *layer.Entry) bool {
	return e != nil && (tree.KindOf(e.Type) == layer.TypeFile || e.Type == layer.TypeSymlink)
}

// showMerge writes merge c's header and the views o asks for, as mode
// shows a merge (log and show): the header alone (off); the diff
// against the first parent as for any commit; one header and diff for
// each parent, the header's id followed by "(from PARENT)" (separate;
// as git's, a parent with no diff has none, and the header is shown
// once when none has);
// or the header, a blank line (NUL with -z) and the combined views:
// --name-status and --name-only the paths that differ from every
// parent, with one status letter per parent, the stat views against
// the first parent, and -p the combined patches (writeCombined).
func showMerge(ctx context.Context, w io.Writer, r *repo.Repo, c *objects.Commit, e logEntry, paths []string, o diffOptions, hdr commitHeader, first bool, mode mergeDiff) error {
	switch mode {
	case mergeOff:
		hdr.write(w, e, first)
		return nil
	case mergeFirstParent, mergeSeparate:
		parents := c.Parents()
		if mode == mergeFirstParent {
			parents = parents[:1]
		}
		shown := false
		for _, p := range parents {
			d, err := worktree.Main(r).Diff(ctx, worktree.DiffOptions{Revs: []string{p.String(), c.ID.String()}, Paths: paths, Contents: o.contents(), Renames: o.renames})
			if err != nil {
				return err
			}
			o.noteRenameLimit(d.RenameLimit)
			if !o.prints(d.Changes) {
				continue // as git's: no header for a parent with no diff
			}
			pe := e
			if mode == mergeSeparate {
				pe.from = shortID(p)
			}
			hdr.write(w, pe, first && !shown)
			shown = true
			if !hdr.oneline() {
				io.WriteString(w, o.headerSep())
			}
			if err := printDiff(w, d, o); err != nil {
				return err
			}
		}
		if !shown {
			hdr.write(w, e, first) // the header once, as git's log
		}
		return nil
	}
	hdr.write(w, e, first)
	io.WriteString(w, mergeSep(hdr))
	return writeMergeViews(ctx, w, r, c, paths, o, mode == mergeDense)
}

// writeMergeViews writes merge c's combined views (show's and diff
// X^!'s): --name-status and --name-only the paths that differ from
// every parent, with one status letter per parent, the others as
// writeCombined.
func writeMergeViews(ctx context.Context, w io.Writer, r *repo.Repo, c *objects.Commit, paths []string, o diffOptions, dense bool) error {
	if !o.names() {
		return writeCombined(ctx, w, r, c, paths, o, dense)
	}
	if len(paths) == 0 {
		paths = []string{"/"}
	}
	changes, _, err := showChanges(r, c, paths, diffOptions{renames: o.renames, renameLimit: o.renameLimit})
	if err != nil {
		return err
	}
	for _, ch := range changes {
		switch {
		case o.nameOnly && o.nul:
			fmt.Fprintf(w, "%s\x00", ch.Path)
		case o.nameOnly:
			fmt.Fprintln(w, pathquote.Quote(ch.Path))
		default:
			printNameStatus(w, ch, o.nul)
		}
	}
	return nil
}

// showMergeDiff is show's views of merge c, as merges asks
// (showMerge); it returns the PATHs none of its sides has.
func showMergeDiff(ctx context.Context, g *globals, r *repo.Repo, out showJSON, c *objects.Commit, paths []string, o diffOptions, hdr commitHeader, first bool, merges mergeDiff) ([]string, error) {
	ps, err := imagePaths(g, r, paths)
	if err != nil {
		return nil, fmt.Errorf("show: %w", err)
	}
	var bad []string
	if len(ps) > 0 {
		if _, bad, err = showChanges(r, c, ps, diffOptions{}); err != nil {
			return nil, fmt.Errorf("show: %w", err)
		}
	}
	w := bufio.NewWriterSize(g.stdout, 64<<10)
	if err := showMerge(ctx, w, r, c, out.logEntry, ps, o, hdr, first, merges); err != nil {
		return nil, fmt.Errorf("show: %w", err)
	}
	return bad, w.Flush()
}

// mergeSep is what show writes between a merge's header and its views,
// as git's combined diff does: a newline (NUL with -z) whatever the views
// print, after --oneline too, and never "---"; nothing after an empty
// format (--format=), which prints nothing of the commit.
func mergeSep(hdr commitHeader) string {
	if hdr.empty() {
		return ""
	}
	return hdr.term()
}
