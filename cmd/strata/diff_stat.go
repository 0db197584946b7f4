package main

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/strata-sh/strata/internal/dispwidth"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/tree"
	"github.com/strata-sh/strata/worktree"
)

// checkJSON refuses, with --format json, the views that print text
// only; --numstat adds its counts to the JSON.
func (o diffOptions) checkJSON(verb string) error {
	if o.format == "json" && o.nul {
		return usagef("%s: -z ends the records of --name-only, --name-status and --numstat text, not JSON", verb)
	}
	if o.format == "json" && (o.names() || o.textViews()) {
		return usagef("%s: --name-only, --name-status, --stat, --shortstat, --summary and -p print text; --format json prints every change (with --numstat, its lines added and removed)", verb)
	}
	return nil
}

// printViews writes the views o asks for but --name-only and
// --name-status, as git's diff_flush orders them: --numstat, --stat,
// --shortstat, --summary, then, after a blank line when one of them
// wrote something (NUL with -z, as git's), -p's patches.
func printViews(out io.Writer, d *worktree.Diff, o diffOptions) error {
	above := false
	if o.numstat || o.stat || o.shortstat {
		lines, err := statLines(d, o.bigFileThreshold(), o.lines)
		if err != nil {
			return fmt.Errorf("diff: %w", err)
		}
		if o.numstat {
			writeNumstat(out, lines, o.nul)
		}
		if o.stat {
			lay := o.layout
			lay.color = o.color
			writeStat(out, compactNames(lines, d.Changes, lay), lay)
		}
		if o.shortstat {
			io.WriteString(out, shortstat(lines))
		}
		above = len(lines) > 0
	}
	if o.summary && writeSummary(out, d.Changes) {
		above = true
	}
	if !o.patch {
		return nil
	}
	if above {
		// git's separator line: NUL with -z.
		io.WriteString(out, map[bool]string{false: "\n", true: "\x00"}[o.nul])
	}
	for _, c := range d.Changes {
		if det := c.Details(); len(det) > 0 {
			fmt.Fprintf(out, "# %s: %s\n", pathquote.Quote(c.Path), strings.Join(det, ", "))
		}
		if err := tree.WritePatchWith(out, c, d.Old[oldPath(c)], d.New[c.Path], tree.PatchOptions{Context: o.context(), Color: o.color, BigFile: o.bigFileThreshold(), Lines: o.lines}); err != nil {
			return fmt.Errorf("diff: %w", err)
		}
	}
	return nil
}

// prints reports whether the views o asks for print something of
// changes: --name-only and --name-status list every change; the others,
// as git's, which tracks no directory, none of a directory.
func (o diffOptions) prints(changes []tree.Change) bool {
	dir := func(e *layer.Entry) bool { return e == nil || e.Type == layer.TypeDir }
	return slices.ContainsFunc(changes, func(c tree.Change) bool {
		return o.names() || !dir(c.Old) || !dir(c.New)
	})
}

// headerSep is what log and show write between a commit's header and
// its diff, as git's: "---" for --stat with -p, a blank line else.
func (o diffOptions) headerSep() string {
	if o.stat && o.patch && !o.names() {
		return "---\n"
	}
	return "\n"
}

// numstatJSON is diff --numstat --format json: each change as --format
// json gives it, with "added" and "removed", its lines (or "binary":
// true); a directory, which has no lines, has neither.
func numstatJSON(changes []tree.Change, lines []statLine) []changeJSON {
	out := toChangesJSON(changes)
	for _, l := range lines {
		j := &out[l.change]
		if l.binary {
			j.Binary = true
			continue
		}
		j.Added, j.Removed = &l.added, &l.removed
	}
	return out
}

// statLine is one file of git's diffstat, as --stat, --numstat and
// --shortstat count it.
type statLine struct {
	change           int    // its index in the changes
	name             string // quoted; a rename's as statRename writes it
	path, oldPath    string // as they are; oldPath a rename's or copy's
	binary           bool
	added, removed   int   // lines, of a text
	oldSize, newSize int64 // bytes, of a binary
}

// statLines counts the lines each change adds and removes, as git's
// diffstat: a directory, which git does not track, is no line of its
// own (its files are); a symlink's target is its content; binary
// content (a NUL in the first 8,000 bytes, git's test) and a file over
// bigFile (git's core.bigFileThreshold, 512 MiB unless the config sets
// it), whose content is not read, are counted in bytes. A file over the patch cap (8 MiB), or of more lines
// than -p diffs, is counted from its lines' hashes, streamed
// (textCounts).
func statLines(d *worktree.Diff, bigFile int64, ld tree.LineDiff) ([]statLine, error) {
	dir := func(e *layer.Entry) bool { return e == nil || e.Type == layer.TypeDir }
	var lines []statLine
	var texts []textCount
	for i, c := range d.Changes {
		if dir(c.Old) && dir(c.New) {
			continue
		}
		l := statLine{change: i, name: pathquote.Quote(c.Path), path: c.Path}
		if c.Kind.Paired() {
			l.name, l.oldPath = statRename(c.OldPath, c.Path), c.OldPath
		}
		o, n := d.Old[oldPath(c)], d.New[c.Path]
		if c.Old != nil && c.Old.Type == layer.TypeSymlink {
			o = []byte(c.Old.Link)
		}
		if c.New != nil && c.New.Type == layer.TypeSymlink {
			n = []byte(c.New.Link)
		}
		size := func(e *layer.Entry, b []byte) int64 {
			if tree.TooBig(e) {
				return e.Size // not read: its size is the entry's
			}
			return int64(len(b))
		}
		l.oldSize, l.newSize = size(c.Old, o), size(c.New, n)
		switch {
		case tree.OverThreshold(c.Old, bigFile) || tree.OverThreshold(c.New, bigFile):
			l.binary = true
		case tree.TooBig(c.Old) || tree.TooBig(c.New) || tree.IsBinary(o) || tree.IsBinary(n):
			texts = append(texts, textCount{line: len(lines), c: c, o: o, n: n})
		default:
			l.added, l.removed = ld.LineCounts(o, n)
		}
		if l.binary && sameContent(c, o, n) {
			l.oldSize, l.newSize = 0, 0 // git's "Bin": a change of mode alone
		}
		lines = append(lines, l)
	}
	if err := countTexts(d, lines, texts); err != nil {
		return nil, err
	}
	return lines, nil
}

// sameContent reports whether c's two sides hold the same bytes: the
// same size and digest, or contents read and equal.
func sameContent(c tree.Change, o, n []byte) bool {
	switch {
	case c.Old == nil || c.New == nil || c.Old.Size != c.New.Size:
		return false
	case c.Old.Digest != "" && c.Old.Digest == c.New.Digest:
		return true
	}
	return !tree.TooBig(c.Old) && !tree.TooBig(c.New) && bytes.Equal(o, n)
}

// writeNumstat writes git's --numstat: "ADDED\tREMOVED\tPATH" a file,
// "-\t-\tPATH" for binary content, a rename's PATH as --stat names it;
// with nul (git's -z), PATH as it is and NUL after it, a rename's
// "\x00OLD\x00NEW\x00".
func writeNumstat(out io.Writer, lines []statLine, nul bool) {
	for _, l := range lines {
		counts := fmt.Sprintf("%d\t%d\t", l.added, l.removed)
		if l.binary {
			counts = "-\t-\t"
		}
		switch {
		case nul && l.oldPath != "":
			fmt.Fprintf(out, "%s\x00%s\x00%s\x00", counts, l.oldPath, l.path)
		case nul:
			fmt.Fprintf(out, "%s%s\x00", counts, l.path)
		default:
			fmt.Fprintf(out, "%s%s\n", counts, l.name)
		}
	}
}

// compactNames is lines with, for --compact-summary, each name
// followed by its change's compactComment in parentheses, as git's.
func compactNames(lines []statLine, changes []tree.Change, lay statLayout) []statLine {
	if !lay.compact {
		return lines
	}
	out := slices.Clone(lines)
	for i, l := range out {
		if c := compactComment(changes[l.change]); c != "" {
			out[i].name += " (" + c + ")"
		}
	}
	return out
}

// shortstat is git's summary line of --stat (and all of --shortstat):
// "N files changed, A insertions(+), D deletions(-)", a count of 0 left
// out unless both are; "" when no file changed.
func shortstat(lines []statLine) string {
	if len(lines) == 0 {
		return ""
	}
	adds, dels := 0, 0
	for _, l := range lines {
		adds, dels = adds+l.added, dels+l.removed
	}
	sum := " " + plural(len(lines), "file") + " changed"
	if adds > 0 || dels == 0 {
		sum += ", " + plural(adds, "insertion") + "(+)"
	}
	if dels > 0 || adds == 0 {
		sum += ", " + plural(dels, "deletion") + "(-)"
	}
	return sum + "\n"
}

// writeStat writes git's --stat: a line a file, its name, count and
// graph in lay.columns() (at least 22 and the counts' width), coloured
// with lay.color,
// then the shortstat line; nothing when no file changed. With
// lay.count, the first so many files, then " ...", the shortstat line
// of them all.
func writeStat(out io.Writer, lines []statLine, lay statLayout) {
	if len(lines) == 0 {
		return // git prints nothing when no file changed
	}
	all := lines
	if lay.count != 0 && lay.count < len(lines) {
		lines = lines[:max(lay.count, 0)]
	}
	maxLen, numWidth := 0, 0
	for _, l := range lines {
		maxLen = max(maxLen, dispwidth.String(l.name)) // in columns, as git's
		if l.binary {
			numWidth = max(numWidth, len("Bin")) // git aligns the counts with "Bin"
		} else {
			numWidth = max(numWidth, len(strconv.Itoa(l.added+l.removed)))
		}
	}
	// As git's show_stats: names, counts and graph fit in the columns;
	// a graph that would not is scaled, a name too long cut to "...".
	columns := max(lay.columns(), 16+6+numWidth)
	maxChange, binWidth := 0, 0
	for _, l := range lines {
		if l.binary {
			binWidth = max(binWidth, len(" -> bytes Bin ")+len(strconv.FormatInt(l.oldSize, 10))+len(strconv.FormatInt(l.newSize, 10)))
		} else {
			maxChange = max(maxChange, l.added+l.removed)
		}
	}
	graph := maxChange
	if maxChange+4 <= binWidth {
		graph = binWidth - 4
	}
	if lay.graphWidth > 0 && lay.graphWidth < graph {
		graph = lay.graphWidth
	}
	width := maxLen
	if lay.nameWidth > 0 && lay.nameWidth < maxLen {
		width = lay.nameWidth
	}
	if width+numWidth+6+graph > columns {
		if graph > columns*3/8-numWidth-6 {
			graph = max(columns*3/8-numWidth-6, 6)
		}
		if lay.graphWidth > 0 && graph > lay.graphWidth {
			graph = lay.graphWidth
		}
		if width > columns-numWidth-6-graph {
			width = columns - numWidth - 6 - graph
		} else {
			graph = columns - numWidth - 6 - width
		}
	}
	// paint colours s as git's --stat with --color: the +s green, the
	// -s red (a binary's sizes too); nothing around an empty s.
	paint := func(s, color string) string {
		if !lay.color || s == "" {
			return s
		}
		return color + s + ansiReset
	}
	// scale is git's scale_linear: at least one column for a change.
	scale := func(n int) int {
		if n == 0 {
			return 0
		}
		return 1 + n*(graph-1)/maxChange
	}
	for _, l := range lines {
		name := statName(l.name, width)
		switch {
		case l.binary && l.oldSize == 0 && l.newSize == 0:
			fmt.Fprintf(out, " %s | %*s\n", name, numWidth, "Bin")
		case l.binary:
			fmt.Fprintf(out, " %s | %*s %s -> %s bytes\n", name, numWidth, "Bin",
				paint(strconv.FormatInt(l.oldSize, 10), ansiRed), paint(strconv.FormatInt(l.newSize, 10), ansiGreen))
		default:
			add, del := l.added, l.removed
			if graph <= maxChange {
				total := scale(add + del)
				if total < 2 && add > 0 && del > 0 {
					total = 2
				}
				if add < del {
					add = scale(add)
					del = total - add
				} else {
					del = scale(del)
					add = total - del
				}
			}
			line := fmt.Sprintf(" %s | %*d %s%s", name, numWidth, l.added+l.removed,
				paint(strings.Repeat("+", add), ansiGreen), paint(strings.Repeat("-", del), ansiRed))
			fmt.Fprintln(out, strings.TrimRight(line, " "))
		}
	}
	if len(lines) < len(all) {
		io.WriteString(out, " ...\n")
	}
	io.WriteString(out, shortstat(all))
}

// statName is a --stat name padded to width columns, or, too wide,
// cut as git's show_stats cuts it: its first characters dropped until
// "..." and the rest fit, the rest from its first '/' on if it has one.
// Columns are counted as git counts them (dispwidth). git 2.39 drops
// as many bytes as the name has columns too many, which may cut a
// character in two; strata drops whole characters, as later git does.
func statName(name string, width int) string {
	if dispwidth.String(name) > width {
		name = dispwidth.CutLeft(name, width-3)
		if i := strings.IndexByte(name, '/'); i >= 0 {
			name = name[i:]
		}
		name = "..." + name
	}
	return dispwidth.Pad(name, width)
}

// writeSummary writes git's --summary: " create mode 100644 PATH" for
// a file added, " delete mode ..." for one deleted, " rename OLD => NEW
// (90%)" and " copy ..." with their similarity, and " mode change
// 100644 => 100755 PATH" (no PATH after a rename's or copy's line). The
// modes are those of -p's headers (tree.GitMode); a directory, which
// git does not track, has no line. It reports whether it wrote one.
func writeSummary(out io.Writer, changes []tree.Change) bool {
	wrote := false
	line := func(format string, a ...any) {
		fmt.Fprintf(out, format, a...)
		wrote = true
	}
	for _, c := range changes {
		om, nm := tree.GitMode(c.Old), tree.GitMode(c.New)
		switch {
		case om == 0 && nm == 0:
		case c.Kind.Paired():
			verb := "rename"
			if c.Kind == tree.Copied {
				verb = "copy"
			}
			line(" %s %s (%d%%)\n", verb, statRename(c.OldPath, c.Path), tree.Percent(c.Score))
			if om != nm {
				line(" mode change %06o => %06o\n", om, nm)
			}
		case om == 0:
			line(" create mode %06o %s\n", nm, pathquote.Quote(c.Path))
		case nm == 0:
			line(" delete mode %06o %s\n", om, pathquote.Quote(c.Path))
		case om != nm:
			line(" mode change %06o => %06o %s\n", om, nm, pathquote.Quote(c.Path))
		}
	}
	return wrote
}

// statRename is git's name of a rename in --stat (its pprint_rename):
// the directories both names share, before and after, written once:
// "/etc/{a => b}/x.conf". Names that share none are both written whole,
// "/a => /b" (git's "a => b": the leading '/' of strata's names is no
// directory they share), and so are names that need quoting.
func statRename(from, to string) string {
	if pathquote.Quote(from) != from || pathquote.Quote(to) != to {
		return pathquote.Quote(from) + " => " + pathquote.Quote(to)
	}
	// The common prefix, up to and with its last '/' but the first.
	pfx := 0
	for i := 1; i < len(from) && i < len(to) && from[i] == to[i]; i++ {
		if from[i] == '/' {
			pfx = i + 1
		}
	}
	// The common suffix, from a '/' on; it may take the prefix's last
	// '/' too, as git's does ("/a/{ => b}/x"), but not the first.
	sfx := 0
	for i, j := len(from)-1, len(to)-1; i >= max(pfx-1, 1) && j >= max(pfx-1, 1) && from[i] == to[j]; i, j = i-1, j-1 {
		if from[i] == '/' {
			sfx = len(from) - i
		}
	}
	if pfx == 0 && sfx == 0 {
		return from + " => " + to
	}
	pfx = max(pfx, 1) // the leading '/'
	amid, bmid := max(len(from)-pfx-sfx, 0), max(len(to)-pfx-sfx, 0)
	return from[:pfx] + "{" + from[pfx:pfx+amid] + " => " + to[pfx:pfx+bmid] + "}" + from[len(from)-sfx:]
}
