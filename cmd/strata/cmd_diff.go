package main

import (
	"context"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/tree"
	"github.com/strata-sh/strata/worktree"
)

func init() { register("diff", newDiffCommand) }

type diffOptions struct {
	nameStatus, nameOnly, stat, patch bool
	cached                            bool // git's --cached: the work tree here
	format                            string
	// renameFlags are -M, --find-copies, --find-copies-harder and
	// --no-renames as given, in order (diff_renames.go).
	renameFlags []renameFlag
	// renames is how renames are found (nil: not), as the flags and
	// diff.renames and diff.renameLimit say (resolveRenames);
	// renameLimit what the limit stopped, for the warning.
	renames     *tree.RenameOptions
	renameLimit *tree.RenameLimit
	// unified: -U N, the lines of context of a patch (N+1: 0 is unset,
	// three as git's).
	unified int
	colors  colorFlag // --color, --no-color
	color   bool      // what they decide
	// exitCode, quiet: git's --exit-code (exit 1 when anything
	// changed) and --quiet (the same, printing nothing); diff only.
	exitCode, quiet bool
}

// any reports whether an output format other than the default listing
// was asked for.
func (o diffOptions) any() bool { return o.views() > 0 }

// views is how many of --name-only, --name-status, --stat and -p were
// given: more than one is a usage error.
func (o diffOptions) views() int {
	return btoi(o.nameOnly) + btoi(o.nameStatus) + btoi(o.stat) + btoi(o.patch)
}

// addViewFlags adds diff's --name-status, --name-only, --stat, -p and
// --format, with statHelp as --stat's help.
func (o *diffOptions) addViewFlags(cmd *cobra.Command, statHelp string) {
	cmd.Flags().BoolVar(&o.nameStatus, "name-status", false, "show only the status letter and path")
	cmd.Flags().BoolVar(&o.nameOnly, "name-only", false, "show only the paths")
	cmd.Flags().BoolVar(&o.stat, "stat", false, statHelp)
	cmd.Flags().BoolVarP(&o.patch, "patch", "p", false, "show unified diffs")
	cmd.Flags().StringVar(&o.format, "format", "text", "output format: text or json")
}

func newDiffCommand(g *globals) *cobra.Command {
	var o diffOptions
	cmd := &cobra.Command{
		Use:   "diff [--name-only | --name-status | --stat | -p] [--format json] [REV [REV2] | A..B | A...B | X^! | X^-N] [-- PATH...]",
		Short: "Show changes between the work tree and revisions",
		Long: `Show what changed, one path a line: A added, M modified, D deleted,
T type changed, R renamed, C copied, with mode, owner, link and xattr
changes in parentheses.

  strata diff                  # the work tree against the commit it is based on
  strata diff REV              # the work tree against REV
  strata diff REV1 REV2        # between two revisions, from their file indexes:
                               # no layer is unpacked
  strata diff main..dev        # the same as "diff main dev"
  strata diff main...dev       # what dev changed since it left main (their merge base)
  strata diff v1^!             # what commit v1 changed: "diff v1^ v1" (v1^-2: a merge
                               # against its second parent)
  strata diff v1 main -- /etc  # only paths under /etc
  cd rootfs/etc && strata diff -- issue   # paths are where you stand: /etc/issue

PATHs starting with / are absolute in the image; others are relative to
the current directory inside a work tree (rootfs/etc/issue from the
project root is /etc/issue). A PATH that matches nothing on either side is
an error, after the others are shown. As in git, "--" may be left out: the
first argument that is no revision but names a file of the work tree
starts the PATHs (one starting with / always does: no revision can), and
an argument that is neither is an error.

  --name-only     paths only
  --name-status   letter and path only
  --stat          lines added and removed per file, and a summary, as git's,
                  in 80 columns (a graph too wide scaled, a name cut to ".../x");
                  "Bin OLD -> NEW bytes" for binary content and for a file
                  over 8 MiB, whose content is not read
  -p              unified diffs for text files ("Binary files differ" otherwise);
                  file content is streamed from the layers that hold it.
                  As git's, for files and symlinks only: a directory is its
                  files, and a device or FIFO, which git cannot hold, is
                  left out (the other views list it)
  --format json   an array of {"status","path","old","new"}; old and new give
                  type, mode, uid, gid, size, digest and link; a rename
                  ("status": "R") or copy ("C") has {"old_path","score"},
                  its source and its similarity in percent; a name that
                  is not UTF-8 also comes as "path_bytes" ("old_path_bytes"),
                  base64
  --cached        accepted for git's --cached and --staged: with no index,
                  what commit records is the work tree's changes, so it is
                  plain diff (of the work tree against HEAD or one REV)
  --exit-code     as git's: exit 1 when anything changed, 0 when nothing did
  --quiet         the same, printing nothing: 'strata diff --quiet || ...'

Renames are found as git's diff finds them (diff.renames is true by
default): a file deleted and one added show as one rename, "R /old ->
/new" ("R094\t/old\t/new" with --name-status, "/old => /new" in --stat,
"/etc/{a => b}" there for names that share directories, "similarity
index 94%" and "rename from" in -p), when the added file is at least
50% the deleted one's content, as git's measure has it (chunks
of lines; files and symlinks only, a symlink renamed only to the same
target). Files of the same content are paired first, from the file
indexes' digests; then a file kept under its base name, when it is the
only one of that name deleted and added; then every file with every
other, unless more than diff.renameLimit² pairs are left (1000² by
default; 0 is no limit), as git's, which then warns. Only files of sizes
that can match are read, streamed from the layers or the work tree; a
file over 8 MiB is renamed only when its content is the same.

  -M[N], --find-renames[=N]  find renames at least N similar, as git's: N is
                  a percentage (-M90%) or git's fraction (-M9 and -M90 are
                  90%); -M100% finds files moved unchanged only
  --no-renames    show every rename as a deletion and an addition;
                  diff.renames=false in .strata/config does so by default
  --find-copies[=N]  find copies too, at least N similar (git's -C[N]; strata's
                  -C is -C DIR): a file added from one modified or deleted
                  ("C075\t/old\t/new", "copy from" in -p; a deleted file's
                  last copy in path order is its rename); diff.renames=copies
                  does so by default
  --find-copies-harder  from files left unchanged too (git's -C -C); past
                  diff.renameLimit, from changed files only, with git's warning

As git's, the order of these counts: the last of -M, --no-renames and
--find-copies decides (--find-copies -M finds renames only) and gives
the similarity; --find-copies twice, or after diff.renames=copies, is
--find-copies-harder, which finds copies whatever follows it.

Exit status: 0 on success (with --exit-code or --quiet: when nothing
changed; 1 when something did), 1 on errors, 2 on usage errors.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(o.format); err != nil {
				return err
			}
			var err error
			if o.color, err = o.colors.on(g, "diff"); err != nil {
				return err
			}
			switch n := o.views(); {
			case n > 1:
				return usagef("diff: --name-only, --name-status, --stat and -p do not go together")
			case n > 0 && o.format == "json":
				return usagef("diff: --name-only, --name-status, --stat and -p print text; --format json prints every change")
			}
			r, w, err := openWorktree(g, "")
			if err != nil {
				return err
			}
			if err := o.resolveRenames(r, "diff"); err != nil {
				return err
			}
			var revs, paths []string
			if n := cmd.ArgsLenAtDash(); n >= 0 {
				revs, paths = args[:n], args[n:]
			} else if revs, paths, err = splitPathArgs(g, r, w.Target(), args); err != nil {
				return fmt.Errorf("diff: %w", err)
			}
			if len(revs) > 2 {
				return usagef("diff: takes at most two revisions")
			}
			if o.cached && (len(revs) > 1 || (len(revs) == 1 && strings.Contains(revs[0], ".."))) {
				return usagef("diff --cached: compares the work tree, so it takes at most one revision")
			}
			if paths, err = imagePaths(g, r, paths); err != nil {
				return fmt.Errorf("diff: %w", err)
			}
			if revs, err = diffRange(r, revs); err != nil {
				return fmt.Errorf("diff: %w", err)
			}
			err = runDiff(cmd.Context(), g.stdout, w, revs, paths, o)
			o.warnRenameLimit(g.stderr)
			return err
		},
	}
	o.addViewFlags(cmd, "show lines added and removed per file")
	o.addRenameFlag(cmd)
	cmd.Flags().BoolVar(&o.cached, "cached", false, "accepted for git's --cached: with no index, the work tree's changes are what commit records")
	cmd.Flags().BoolVar(&o.cached, "staged", false, "the same as --cached")
	cmd.Flags().BoolVar(&o.exitCode, "exit-code", false, "exit 1 when anything changed, as git's")
	cmd.Flags().BoolVar(&o.quiet, "quiet", false, "print nothing; exit 1 when anything changed, as git's")
	return cmd
}

// noteRenameLimit records what the rename limit stopped in one
// comparison (Diff.RenameLimit).
func (o diffOptions) noteRenameLimit(l tree.RenameLimit) {
	if o.renameLimit != nil {
		o.renameLimit.Needed = max(o.renameLimit.Needed, l.Needed)
		o.renameLimit.Degraded = o.renameLimit.Degraded || l.Degraded
	}
}

// warnRenameLimit says, as git does, that the rename limit stopped the
// comparison of files by content (or, for --find-copies-harder, kept it
// to changed files), and what limit would not have.
func (o diffOptions) warnRenameLimit(w io.Writer) {
	switch {
	case o.renameLimit == nil || o.renameLimit.Needed == 0:
		return
	case o.renameLimit.Degraded:
		fmt.Fprintln(w, "strata: warning: only found copies from modified paths due to too many files.")
	default:
		fmt.Fprintln(w, "strata: warning: exhaustive rename detection was skipped due to too many files.")
	}
	fmt.Fprintf(w, "strata: warning: you may want to set your diff.renameLimit variable to at least %d and retry the command.\n", o.renameLimit.Needed)
}

// unifiedFlag is -U N: the context of -p's patches, which it asks for.
type unifiedFlag struct{ o *diffOptions }

func (f unifiedFlag) String() string {
	if f.o == nil || f.o.unified == 0 {
		return "3"
	}
	return strconv.Itoa(f.o.unified - 1)
}
func (f unifiedFlag) Type() string { return "N" }
func (f unifiedFlag) Set(v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return fmt.Errorf("want a count of lines, not %q", v)
	}
	f.o.unified, f.o.patch = n+1, true
	return nil
}

// context is the lines of context -p shows.
func (o diffOptions) context() int {
	if o.unified == 0 {
		return tree.DefaultContext
	}
	return o.unified - 1
}

// diffRange reads git's "diff A..B" (A against B), "diff A...B" (their
// merge base against B), and "diff X^!" and "diff X^-N" (X's parent, N,
// against X); other revisions stay as they are.
func diffRange(r *repo.Repo, revs []string) ([]string, error) {
	if len(revs) != 1 {
		return revs, nil
	}
	if _, _, _, ok := refs.SplitParentShorthand(revs[0]); ok {
		return diffParent(r, revs[0])
	}
	a, b, symmetric, ok := refs.SplitRange(revs[0])
	if !ok || !symmetric {
		if ok {
			return []string{a, b}, nil
		}
		return revs, nil
	}
	da, err := r.Refs.Resolve(a, r.Objects)
	if err != nil {
		return nil, err
	}
	db, err := r.Refs.Resolve(b, r.Objects)
	if err != nil {
		return nil, err
	}
	base, err := repo.MergeBase(r.Objects, da, db)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", revs[0], err)
	}
	return []string{base.String(), b}, nil
}

// diffParent is the two ends of "diff X^!" and "diff X^-N", as git's:
// X's parent (N) and X; X alone (against the work tree) for X^! of a
// root commit. X^! of a merge, which git shows as a combined diff, is
// refused, as is X^@.
func diffParent(r *repo.Repo, arg string) ([]string, error) {
	rev, kind, n, _ := refs.SplitParentShorthand(arg)
	x, err := r.Refs.Resolve(rev, r.Objects)
	if err != nil {
		return nil, err
	}
	parents, err := r.Objects.Parents(x)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", arg, err)
	}
	switch {
	case kind == refs.ParentsOf:
		return nil, fmt.Errorf("%s: diff takes two commits: X^! or X^-N", arg)
	case kind == refs.WithoutParent && len(parents) == 0:
		return []string{x.String()}, nil
	case kind == refs.WithoutParent && len(parents) > 1:
		return nil, fmt.Errorf("%s: %s is a merge: name the parent to diff against, %s^-1 or %s^-2", arg, shortID(x), rev, rev)
	case kind == refs.WithoutParent:
		n = 1
	}
	if n > len(parents) {
		return nil, fmt.Errorf("%s: %w: %s has no parent %d", arg, refs.ErrUnknownRevision, shortID(x), n)
	}
	return []string{parents[n-1].String(), x.String()}, nil
}

// cleanPaths makes PATH arguments absolute paths of the tree: "etc/" -> "/etc".
func cleanPaths(ps []string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = path.Clean("/" + p)
	}
	return out
}

func runDiff(ctx context.Context, out io.Writer, w *worktree.Worktree, revs, paths []string, o diffOptions) error {
	d, err := w.Diff(ctx, worktree.DiffOptions{Revs: revs, Paths: paths, Contents: o.format != "json" && !o.nameStatus && (o.stat || o.patch), Renames: o.renames})
	if err != nil {
		return fmt.Errorf("diff: %w", err)
	}
	o.noteRenameLimit(d.RenameLimit)
	changes := d.Changes
	bad, err := diffMissing(ctx, w, revs, paths, changes)
	if err != nil {
		return fmt.Errorf("diff: %w", err)
	}
	if !o.quiet {
		if err := printDiff(out, d, o); err != nil {
			return err
		}
	}
	if err := missingPaths(bad); err != nil {
		return err
	}
	if (o.exitCode || o.quiet) && len(changes) > 0 {
		return exitCodeError{code: 1} // git's "differences": no message
	}
	return nil
}

// printDiff writes d in the format o asks for.
func printDiff(out io.Writer, d *worktree.Diff, o diffOptions) error {
	changes := d.Changes
	if o.format == "json" {
		return writeJSON(out, toChangesJSON(changes))
	}
	switch {
	case o.nameStatus:
		for _, c := range toChangesJSON(changes) {
			printNameStatus(out, c)
		}
		return nil
	case o.nameOnly:
		for _, c := range changes {
			fmt.Fprintln(out, pathquote.Quote(c.Path))
		}
		return nil
	case o.stat:
		printStat(out, changes, d.Old, d.New)
		return nil
	case o.patch:
		for _, c := range changes {
			if det := c.Details(); len(det) > 0 {
				fmt.Fprintf(out, "# %s: %s\n", pathquote.Quote(c.Path), strings.Join(det, ", "))
			}
			if err := tree.WritePatchWith(out, c, d.Old[oldPath(c)], d.New[c.Path], tree.PatchOptions{Context: o.context(), Color: o.color}); err != nil {
				return fmt.Errorf("diff: %w", err)
			}
		}
		return nil
	}
	for _, c := range changes {
		line := fmt.Sprintf("%c %s", c.Kind, pathquote.Quote(c.Path))
		if c.Kind.Paired() {
			line = fmt.Sprintf("%c %s -> %s", c.Kind, pathquote.Quote(c.OldPath), pathquote.Quote(c.Path))
		}
		if det := c.Details(); len(det) > 0 {
			line += " (" + strings.Join(det, ", ") + ")"
		}
		fmt.Fprintln(out, line)
	}
	return nil
}

func printStat(out io.Writer, changes []tree.Change, old, nu map[string][]byte) {
	// As git's, which tracks no directories: a directory added, removed or
	// changed is no line of its own (its files are).
	dir := func(e *layer.Entry) bool { return e == nil || e.Type == layer.TypeDir }
	type statLine struct {
		name             string
		binary           bool
		added, removed   int   // lines, of a text
		oldSize, newSize int64 // bytes, of a binary
	}
	var lines []statLine
	width, numWidth := 0, 0
	adds, dels := 0, 0
	for _, c := range changes {
		if dir(c.Old) && dir(c.New) {
			continue
		}
		l := statLine{name: pathquote.Quote(c.Path)}
		if c.Kind.Paired() {
			l.name = statRename(c.OldPath, c.Path)
		}
		width = max(width, utf8.RuneCountInString(l.name)) // fmt pads in runes
		o, n := old[oldPath(c)], nu[c.Path]
		// A symlink's target is its content, as git counts it.
		if c.Old != nil && c.Old.Type == layer.TypeSymlink {
			o = []byte(c.Old.Link)
		}
		if c.New != nil && c.New.Type == layer.TypeSymlink {
			n = []byte(c.New.Link)
		}
		if tree.IsBinary(o) || tree.IsBinary(n) || tree.TooBig(c.Old) || tree.TooBig(c.New) {
			// A file over the patch cap is not read: its size is the entry's.
			size := func(e *layer.Entry, b []byte) int64 {
				if tree.TooBig(e) {
					return e.Size
				}
				return int64(len(b))
			}
			l.binary, l.oldSize, l.newSize = true, size(c.Old, o), size(c.New, n)
			numWidth = max(numWidth, len("Bin")) // git aligns the counts with "Bin"
		} else {
			l.added, l.removed = tree.LineCounts(o, n)
			adds, dels = adds+l.added, dels+l.removed
			numWidth = max(numWidth, len(strconv.Itoa(l.added+l.removed)))
		}
		lines = append(lines, l)
	}
	if len(lines) == 0 {
		return // git prints nothing when no file changed
	}
	// As git's show_stats: names, counts and graph fit in 80 columns; a
	// graph that would not is scaled, a name too long cut to "...".
	const columns = 80
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
	if width+numWidth+6+graph > columns {
		if graph > columns*3/8-numWidth-6 {
			graph = max(columns*3/8-numWidth-6, 6)
		}
		if width > columns-numWidth-6-graph {
			width = columns - numWidth - 6 - graph
		} else {
			graph = columns - numWidth - 6 - width
		}
	}
	// scale is git's scale_linear: at least one column for a change.
	scale := func(n int) int {
		if n == 0 {
			return 0
		}
		return 1 + n*(graph-1)/maxChange
	}
	for _, l := range lines {
		name := l.name
		if n := utf8.RuneCountInString(name); n > width {
			r := []rune(name)
			name = string(r[n-(width-3):])
			if i := strings.IndexByte(name, '/'); i >= 0 {
				name = name[i:]
			}
			name = "..." + name
		}
		switch {
		case l.binary && l.oldSize == 0 && l.newSize == 0:
			fmt.Fprintf(out, " %-*s | %*s\n", width, name, numWidth, "Bin")
		case l.binary:
			fmt.Fprintf(out, " %-*s | %*s %d -> %d bytes\n", width, name, numWidth, "Bin", l.oldSize, l.newSize)
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
			line := fmt.Sprintf(" %-*s | %*d %s%s", width, name, numWidth, l.added+l.removed,
				strings.Repeat("+", add), strings.Repeat("-", del))
			fmt.Fprintln(out, strings.TrimRight(line, " "))
		}
	}
	// git's summary leaves out a count of 0, unless both are.
	sum := " " + plural(len(lines), "file") + " changed"
	if adds > 0 || dels == 0 {
		sum += ", " + plural(adds, "insertion") + "(+)"
	}
	if dels > 0 || adds == 0 {
		sum += ", " + plural(dels, "deletion") + "(-)"
	}
	fmt.Fprintln(out, sum)
}

// oldPath is where a change's old side was: its path, or a rename's or
// copy's source.
func oldPath(c tree.Change) string {
	if c.Kind.Paired() {
		return c.OldPath
	}
	return c.Path
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
