package main

import (
	"bufio"
	"fmt"
	"slices"

	"github.com/spf13/cobra"
)

func init() { register("show", newShowCommand) }

func newShowCommand(g *globals) *cobra.Command {
	var format string
	var o diffOptions // --name-status, --name-only, --stat, -p, -M, --find-copies
	var hf headerFlags
	var noPatch, firstParent bool
	var mf mergeFlags
	cmd := &cobra.Command{
		Use:   "show [--name-status | --name-only | --stat --numstat --shortstat --summary -p] [REV...] [-- PATH...] | REV:PATH",
		Short: "Show a commit: parent, message, config and layers",
		Long: `Show a commit: parent, message, config and layers. With PATHs (resolved
as in diff: relative to where you stand in a work tree, / is the image
root), also what the commit changed under them, as diff --name-status
against its parent; a PATH in neither is an error, named after the rest.
"--" may be left out as in diff: "strata show /etc" is HEAD under /etc.
Several REVs are shown one after another, each commit once, as git
show shows them (--format json: an array of the objects). A range
(A..B, ^A B, A...B, X^!, X^-) is every commit log lists for it, newest
first (with PATHs, as log -- PATH: those that changed them), and X^@ is
X's parents: an array in JSON, even of one or none.
For a merge, as git show: only the paths that differ from every parent,
with one status letter per parent (MA: modified against the first parent,
added against the second); --stat, --numstat, --shortstat and --summary
against the first parent, after a blank line, never "---"; -p git's dense
combined diff ("diff --cc PATH", "index P1,P2..R", "@@@ -a,b -c,d +e,f @@@",
a "-" or "+" column per parent: "- " a line the first parent had and the
merge lost, " +" one the second lacked, "++" one new to both), leaving
out the hunks, and the paths, where the merge took one parent's lines
as they were; binary content is "Binary files differ", and modes that
differ "mode P1,P2..R" ("new file mode", "deleted file mode P1,P2").
-c keeps those hunks ("diff --combined"), --cc is the default; -m shows
the diff against each parent in turn, --first-parent (or
--diff-merges=first-parent) the first parent's, as any commit's, and
--diff-merges=off none (see log). Renames are found against each
parent as diff finds them (diff.renames, -M, --no-renames): a file
renamed on one side is "RM PATH" (named by the merge's path alone), its
combined diff against that parent's old content; -m and --first-parent
show "R089 OLD NEW". In JSON, with PATHs, a merge's "changes" are the paths
that differ from every parent, "status" one letter per parent ("MM").
An empty commit is its header alone, whatever the views.

"show REV:PATH" prints what REV has at PATH (from the image root, or,
as in git, from where you stand when PATH starts with ./ or ../), as
git show does: a file's content, streamed from the layer that holds it
and checked against its digest first; a symlink's target; a directory's
names, a directory's with a trailing /. An empty REV is HEAD (":etc/motd"),
but ":/TEXT" is git's search of commit messages, not a path.

  --name-status   what the commit changed (as "-- /" when no PATH is given)
  --name-only     the same, paths only
  --stat          lines added and removed per file against the first parent
                  (everything, for a root commit), as diff --stat
  --numstat, --shortstat, --summary  the same counts for scripts, the summary
                  line of --stat alone, and the files created, deleted,
                  renamed, copied or changed in mode, as diff's
  -p, --patch     the unified diff against the parent, as diff -p (a merge's:
                  the combined diff, above);
                  with --stat, as git's: "---" after the header, the stat,
                  a blank line, the patch (the views combine as diff's)
  -z              as git's: NUL between commits, and in --name-only,
                  --name-status and --numstat as diff -z
  -M[N], --no-renames  renames found as diff finds them (diff.renames,
                  diff.renameLimit; past it git's warning, except for a
                  merge's combined views, as git's); "changes" in JSON too
  --find-copies[=N], --find-copies-harder  copies too, as diff finds them
                  (git's -C; strata's -C is -C DIR): C075 in --name-status
  -s, --no-patch  the commit's header alone, without config and layers,
                  as does a git format (--pretty, --format FMT: see log)

  strata show main:/etc/os-release   # the file as main has it
  strata show -s --format '%H %ci' main
  strata show --format json main     # log's keys, "config" and "layers":
      # {"id","short","parent","parents","author","date","message","refs",
      #  "config":{"os","architecture","variant","env","entrypoint","cmd",
      #  "working_dir","user","exposed_ports","volumes","labels","stop_signal"},
      #  "layers":[{"digest","diff_id","media_type","size"}], "changes"
      #  (with PATHs: as diff --format json's)}`,
		RunE: func(cmd *cobra.Command, args []string) error {
			hdr, err := hf.header("show", &format)
			if err != nil {
				return err
			}
			if o.color, err = o.colors.on(g, "show"); err != nil {
				return err
			}
			o.layout.term = termColumns(g.stdout)
			hdr.color, hdr.nul = o.color && format != "json", o.nul
			if o.nul && format == "json" {
				return usagef("show: -z ends the entries of text, not of --format json")
			}
			if err := checkFormat(format); err != nil {
				return err
			}
			if noPatch && (o.any() || format == "json") {
				return usagef("show: -s shows the commit's header only: no -p, --stat, --numstat, --shortstat, --summary, --name-status, --name-only or --format json")
			}
			var paths []string
			dash := cmd.ArgsLenAtDash()
			if dash >= 0 {
				args, paths = args[:dash], args[dash:]
			}
			if err := o.checkViews("show"); err != nil {
				return err
			}
			mo := o // a merge's views
			if !noPatch && format != "json" {
				// -c and --cc imply -p, --diff-merges a merge's -p.
				o, mo = mf.views(o)
			}
			merges := mf.resolve(true, firstParent)
			if (o.textViews() || o.numstat) && format == "json" {
				return usagef("show: --stat, --numstat, --shortstat, --summary and -p print text, not JSON (--name-status with --format json lists the changes)")
			}
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			if err := o.resolveConfig(r, "show"); err != nil {
				return err
			}
			mo.takeConfig(o)
			defer o.warnRenameLimit(g.stderr)
			// Without "--", git's rule tells revisions from paths; REV:PATH
			// is a revision's file.
			if dash < 0 && len(args) > 0 && !isRevPath(args[0]) {
				if args, paths, err = splitPathArgs(g, r, currentTarget(g, r), args); err != nil {
					return fmt.Errorf("show: %w", err)
				}
			}
			if len(args) == 0 {
				args = []string{"HEAD"}
			}
			decor, err := hdr.decorations(r)
			if err != nil {
				return err
			}
			// As git: a range is every commit it holds, newest first, as
			// log lists them (with PATHs, those that changed them).
			one := len(args) == 1
			list, err := showCommits(g, r, args, paths)
			if err != nil {
				return fmt.Errorf("show: %w", err)
			}
			if list.ids != nil {
				args = list.ids
			}
			if (o.nameStatus || o.nameOnly) && len(paths) == 0 {
				paths = []string{"/"}
			}
			// As git: each commit once, in the order given, entries
			// separated as log's.
			outs := []showJSON{}
			var bad []string
			shown := map[string]bool{}
			for _, rev := range args {
				if frev, p, ok := splitRevPath(rev); ok {
					if format == "json" || o.any() || len(paths) > 0 || noPatch || hdr.pretty != nil || hf.date != "" {
						return usagef("show %s: a path's content takes no --format, --pretty, --date, -s, --name-status, --name-only, --stat, -p or PATH", rev)
					}
					if p, err = fromHere(g, r, rev, p); err != nil {
						return err
					}
					w := bufio.NewWriterSize(g.stdout, 64<<10)
					if err := showPath(w, r, rev, frev, p); err != nil {
						return fmt.Errorf("show: %w", err)
					}
					if err := w.Flush(); err != nil {
						return err
					}
					continue
				}
				c, err := r.Resolve(rev)
				if err != nil {
					return fmt.Errorf("show: %w", err)
				}
				if shown[c.ID.String()] {
					continue
				}
				shown[c.ID.String()] = true
				out, missing, err := showCommit(cmd.Context(), g, r, c, decor[c.ID], paths, o, format, hdr, noPatch, len(shown) == 1, merges, mo)
				if err != nil {
					return err
				}
				outs = append(outs, out)
				if !list.walked {
					bad = append(bad, missing...)
				}
			}
			if list.walked {
				bad = list.missing // the range's, as log's
			}
			if format == "json" {
				var v any = outs
				if one && !list.set && len(outs) == 1 {
					v = outs[0] // one REV: its object, as before
				}
				if err := writeJSON(g.stdout, v); err != nil {
					return err
				}
			}
			slices.Sort(bad)
			return missingPaths(slices.Compact(bad))
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text, json, or a git format as --pretty takes")
	hf.add(cmd)
	cmd.Flags().BoolVar(&hf.oneline, "oneline", false, "the header as one line: short id and subject")
	cmd.Flags().BoolVarP(&noPatch, "no-patch", "s", false, "the commit's header only, without config and layers")
	cmd.Flags().BoolVar(&o.nameStatus, "name-status", false, "list what the commit changed, with status letters")
	o.addRenameFlag(cmd)
	cmd.Flags().BoolVar(&o.nameOnly, "name-only", false, "list the paths the commit changed")
	cmd.Flags().BoolVarP(&o.nul, "null", "z", false, "NUL between commits, and in --name-only, --name-status and --numstat as diff -z, as git's")
	o.addStatFlag(cmd, "lines added and removed per file against the first parent")
	o.addStatFlags(cmd, "")
	cmd.Flags().BoolVarP(&o.patch, "patch", "p", false, "the unified diff against the parent (a merge's combined diff, as git's)")
	mf.add(cmd)
	cmd.Flags().BoolVar(&firstParent, "first-parent", false, "a merge's views against its first parent, as any commit's")
	return cmd
}
