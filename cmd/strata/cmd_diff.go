package main

import (
	"context"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/tree"
	"github.com/strata-sh/strata/worktree"
)

func init() { register("diff", newDiffCommand) }

type diffOptions struct {
	nameStatus, nameOnly, stat, patch bool
	// numstat, shortstat, summary: git's --numstat, --shortstat and
	// --summary (diff_stat.go).
	numstat, shortstat, summary bool
	// nul: git's -z, names as they are and each record ended by NUL
	// in --name-only, --name-status and --numstat.
	nul    bool
	cached bool // git's --cached: the work tree here
	format string
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
	// lineFlags are --diff-algorithm, --histogram, --minimal and
	// --[no-]indent-heuristic as given, in order; lines what they and
	// the config make (diff_algorithm.go).
	lineFlags []func(*tree.LineDiff)
	lines     tree.LineDiff
	// bigFile is git's core.bigFileThreshold as the config sets it
	// (resolveConfig; nil: git's default): a file over it is binary to
	// --stat, --numstat and -p.
	bigFile *int64
	// layout is --stat's: its width, names' width and count of files
	// (--stat=W,N,C, --stat-width, ...; diff_stat_flags.go).
	layout statLayout
}

// bigFileThreshold is the size over which a file is binary: git's
// core.bigFileThreshold, tree.BigFileThreshold unless the config sets it.
func (o diffOptions) bigFileThreshold() int64 {
	if o.bigFile == nil {
		return tree.BigFileThreshold
	}
	return *o.bigFile
}

// any reports whether an output format other than the default listing
// was asked for.
func (o diffOptions) any() bool { return o.names() || o.numstat || o.textViews() }

// names reports whether --name-only or --name-status was given: as
// git's, either is then the only view, whatever else is asked.
func (o diffOptions) names() bool { return o.nameOnly || o.nameStatus }

// textViews reports whether a view that prints text only was given:
// --stat, --shortstat, --summary or -p.
func (o diffOptions) textViews() bool { return o.stat || o.shortstat || o.summary || o.patch }

// contents reports whether the views asked for read file contents:
// those that count lines, and -p.
func (o diffOptions) contents() bool {
	return !o.names() && (o.stat || o.numstat || o.shortstat || o.patch)
}

// checkViews refuses the views git refuses together: --name-only and
// --name-status. The others combine as git's do, printed in git's
// order (numstat, stat, shortstat, summary, then after a blank line the
// patches), and --name-only or --name-status, as git's, takes the place
// of all of them.
func (o diffOptions) checkViews(verb string) error {
	if o.nameOnly && o.nameStatus {
		return usagef("%s: --name-only and --name-status do not go together", verb)
	}
	return nil
}

// addViewFlags adds diff's --name-status, --name-only, --stat,
// --numstat, --shortstat, --summary, -p and --format, with statHelp as
// --stat's help.
func (o *diffOptions) addViewFlags(cmd *cobra.Command, statHelp string) {
	cmd.Flags().BoolVar(&o.nameStatus, "name-status", false, "show only the status letter and path")
	cmd.Flags().BoolVar(&o.nameOnly, "name-only", false, "show only the paths")
	o.addStatFlag(cmd, statHelp)
	o.addStatFlags(cmd, "")
	cmd.Flags().BoolVarP(&o.nul, "null", "z", false, "--name-only, --name-status and --numstat: names as they are, each record ended by NUL, as git's -z")
	cmd.Flags().BoolVarP(&o.patch, "patch", "p", false, "show unified diffs")
	cmd.Flags().StringVar(&o.format, "format", "text", "output format: text or json")
}

// addStatFlags adds --numstat, --shortstat and --summary, their help
// texts after what ("each commit's " in log).
func (o *diffOptions) addStatFlags(cmd *cobra.Command, what string) {
	cmd.Flags().BoolVar(&o.numstat, "numstat", false, what+"lines added and removed per file, as numbers for scripts: ADDED, REMOVED, PATH")
	cmd.Flags().BoolVar(&o.shortstat, "shortstat", false, what+"summary line of --stat alone: files changed, insertions, deletions")
	cmd.Flags().BoolVar(&o.summary, "summary", false, what+"files created, deleted, renamed, copied, and mode changes")
}

func newDiffCommand(g *globals) *cobra.Command {
	var o diffOptions
	cmd := &cobra.Command{
		Use:   "diff [--name-only | --name-status | --stat --numstat --shortstat --summary -p] [-z] [--format json] [REV [REV2] | A..B | A...B | X^! | X^-N | X^@] [-- PATH...]",
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
  strata diff -p M^!           # merge M against all its parents, as git's: show -p M's
                               # combined diff; "MM /f" a path that differs from each
  strata diff M^@              # M's parents, the first against the second (of a
                               # root commit, none: "strata diff")
  strata diff v1 main -- /etc  # only paths under /etc
  cd rootfs/etc && strata diff -- issue   # paths are where you stand: /etc/issue

PATHs starting with / are absolute in the image; others are relative to
the current directory inside a work tree (rootfs/etc/issue from the
project root is /etc/issue). A PATH that matches nothing on either side is
an error, after the others are shown. As in git, "--" may be left out: the
first argument that is no revision but names a file of the work tree,
or is a pattern ('*.conf': *, ? or [), starts the PATHs (one starting
with / always does: no revision can), and an argument that is neither
is an error.

  --name-only     paths only
  --name-status   letter and path only
  --stat          lines added and removed per file, and a summary, as git's,
                  in the terminal's columns ($COLUMNS, else standard
                  output's width, else 80; a graph too wide scaled, a name
                  cut to ".../x");
                  --stat=W[,N[,C]] (or --stat-width, --stat-name-width,
                  --stat-count): W columns, names cut to N, the first C
                  files then " ...", as git's; --stat-graph-width=G: the
                  graph of +/- at most G columns (without it, config
                  diff.statGraphWidth, as git's; 0 or less: no cap);
                  --color paints + green, - red; --compact-summary: --stat
                  with "(new)", "(gone)", "(new +x)", "(mode +x)", "(mode -l)"...
                  after the names, as git's;
                  "Bin OLD -> NEW bytes" for binary content (git's test: a NUL
                  in the first 8,000 bytes) and for a file over
                  core.bigFileThreshold (git's: 512 MiB unless .strata/config
                  sets it, with k, m or g; a bad value is refused as git's),
                  "Bin" alone for a change of mode; a text
                  too big for -p (over 8 MiB) is counted from its lines'
                  hashes, streamed, as git counts it
  --numstat       the same counts for scripts, as git's: "ADDED\tREMOVED\tPATH" a
                  file, "-\t-\tPATH" for binary content (and a file over
                  core.bigFileThreshold; -p: "Binary files differ"),
                  a rename's PATH as --stat names it ("/etc/{a => b}")
  --shortstat     the summary line of --stat alone: "N files changed, ..."
                  (nothing when nothing changed)
  --summary       git's lines for files created and deleted and their modes
                  ("create mode 100644 /etc/new", "delete mode ..."), renames and
                  copies with their similarity ("rename /etc/{a => b} (94%)"),
                  and mode changes ("mode change 100644 => 100755 /bin/x");
                  the modes are -p's, every permission bit as ls-tree shows
                  them (100600, 104755: git keeps 100644 and 100755 only; a
                  device's or FIFO's have stat(2)'s type)
  -z              as git's: --name-only, --name-status and --numstat give names
                  as they are (not quoted) and end each record with NUL
                  ("M\0/path\0", "R094\0/old\0/new\0"; a rename's numstat
                  "A\tD\t\0/old\0/new\0"); the other views are as without it,
                  but the blank line before -p's patches is NUL
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
                  base64; with --numstat, "added" and "removed", the lines
                  (or "binary": true)

As git's, views combine, printed in this order: --numstat, --stat,
--shortstat, --summary, then, after a blank line, -p's patches
("diff --stat -p" is git's stat then patch). --name-only or --name-status
takes the place of the others, as git's; the two together are a usage
error, and so is --format json with any view but --numstat.

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
default; 0 is no limit), as git's, which then warns (but not for a
merge's combined diff, M^!, as git 2.39 does not). Only files of sizes
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
			o.layout.term = termColumns(g.stdout)
			if err := o.checkViews("diff"); err != nil {
				return err
			}
			if err := o.checkJSON("diff"); err != nil {
				return err
			}
			r, w, err := openWorktree(g, "")
			if err != nil {
				return err
			}
			if err := o.resolveConfig(r, "diff"); err != nil {
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

// cleanPaths makes PATH arguments absolute paths of the tree: "etc/" -> "/etc".
func cleanPaths(ps []string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = path.Clean("/" + p)
	}
	return out
}

func runDiff(ctx context.Context, out io.Writer, w *worktree.Worktree, revs, paths []string, o diffOptions) error {
	if len(revs) == 2 && revs[0] == mergeRev {
		return runMergeDiff(ctx, out, w.Repo, revs[1], paths, o)
	}
	d, err := w.Diff(ctx, worktree.DiffOptions{Revs: revs, Paths: paths, Contents: o.contents(), Renames: o.renames})
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
	switch {
	case o.format == "json" && o.numstat:
		lines, err := statLines(d, o.bigFileThreshold(), o.lines)
		if err != nil {
			return fmt.Errorf("diff: %w", err)
		}
		return writeJSON(out, numstatJSON(changes, lines))
	case o.format == "json":
		return writeJSON(out, toChangesJSON(changes))
	case o.nameStatus:
		for _, c := range toChangesJSON(changes) {
			printNameStatus(out, c, o.nul)
		}
		return nil
	case o.nameOnly && o.nul:
		for _, c := range changes {
			fmt.Fprintf(out, "%s\x00", c.Path)
		}
		return nil
	case o.nameOnly:
		for _, c := range changes {
			fmt.Fprintln(out, pathquote.Quote(c.Path))
		}
		return nil
	case o.any():
		return printViews(out, d, o)
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

// oldPath is where a change's old side was: its path, or a rename's or
// copy's source.
func oldPath(c tree.Change) string {
	if c.Kind.Paired() {
		return c.OldPath
	}
	return c.Path
}
