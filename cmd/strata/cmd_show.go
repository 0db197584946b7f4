package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/tree"
	"github.com/strata-sh/strata/worktree"
)

func init() { register("show", newShowCommand) }

// showJSON is the JSON form of show: the log entry plus config and layers.
type showJSON struct {
	logEntry
	Config showConfig  `json:"config"`
	Layers []showLayer `json:"layers"`
	// Changes: with PATHs, what the commit changed under them.
	Changes []changeJSON `json:"changes,omitempty"`
}

type showConfig struct {
	OS           string   `json:"os,omitempty"`
	Architecture string   `json:"architecture,omitempty"`
	Variant      string   `json:"variant,omitempty"`
	Env          []string `json:"env,omitempty"`
	Entrypoint   []string `json:"entrypoint,omitempty"`
	Cmd          []string `json:"cmd,omitempty"`
	WorkingDir   string   `json:"working_dir,omitempty"`
	User         string   `json:"user,omitempty"`
}

type showLayer struct {
	Digest    string `json:"digest"`
	DiffID    string `json:"diff_id"`
	MediaType string `json:"media_type"`
	Size      int64  `json:"size"`
}

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
      #  "working_dir","user"}, "layers":[{"digest","diff_id","media_type",
      #  "size"}], "changes" (with PATHs: as diff --format json's)}`,
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

// showCommit shows commit c as show's flags ask, first saying it is the
// first shown (later ones are separated as log's entries); JSON is
// returned, not printed. It returns the PATHs the commit has on neither
// side.
func showCommit(ctx context.Context, g *globals, r *repo.Repo, c *objects.Commit, decor, paths []string, o diffOptions, format string, hdr commitHeader, noPatch, first bool, merges mergeDiff, mo diffOptions) (showJSON, []string, error) {
	sum, err := r.Objects.ReadSummary(c.ID)
	if err != nil {
		return showJSON{}, nil, fmt.Errorf("show: %w", err)
	}
	out := showJSON{logEntry: toLogEntry(sum, decor), Config: configOf(c), Layers: layersOf(c)}
	if len(out.Parents) > 1 && mo.any() && format != "json" {
		bad, err := showMergeDiff(ctx, g, r, out, c, paths, mo, hdr, first, merges)
		return out, bad, err
	}
	if !o.names() && (o.textViews() || o.numstat) {
		bad, err := showDiff(ctx, g, r, out, c, paths, o, hdr, first)
		return out, bad, err
	}
	var bad []string
	if len(paths) > 0 {
		if paths, err = imagePaths(g, r, paths); err != nil {
			return out, nil, fmt.Errorf("show: %w", err)
		}
		if out.Changes, bad, err = showChanges(r, c, paths, o); err != nil {
			return out, nil, fmt.Errorf("show: %w", err)
		}
	}
	switch {
	case format == "json":
	case o.nameStatus || o.nameOnly:
		// As git show --name-status: the commit's header, then
		// its paths, without the config and layers.
		hdr.write(g.stdout, out.logEntry, first)
		switch {
		case len(out.Parents) > 1:
			io.WriteString(g.stdout, mergeSep(hdr))
		case !hdr.oneline() && len(out.Changes) > 0:
			fmt.Fprintln(g.stdout)
		}
		for _, c := range out.Changes {
			switch {
			case o.nameOnly && o.nul:
				fmt.Fprintf(g.stdout, "%s\x00", c.Path)
			case o.nameOnly:
				fmt.Fprintln(g.stdout, pathquote.Quote(c.Path))
			default:
				printNameStatus(g.stdout, c, o.nul)
			}
		}
	case noPatch || hdr.pretty != nil:
		// A git format, or -s, is the header alone, as git
		// show -s: the config and layers are show's own body.
		hdr.write(g.stdout, out.logEntry, first)
	default:
		printShow(g.stdout, out, hdr, first, o.nul)
	}
	return out, bad, nil
}

// showDiff is show --stat and show -p: the header, then diff --stat or
// diff -p of the commit against its first parent, from the file indexes
// and the layers.
func showDiff(ctx context.Context, g *globals, r *repo.Repo, out showJSON, c *objects.Commit, paths []string, o diffOptions, hdr commitHeader, first bool) ([]string, error) {
	ps, err := imagePaths(g, r, paths)
	if err != nil {
		return nil, fmt.Errorf("show: %w", err)
	}
	d, err := worktree.Main(r).Diff(ctx, worktree.DiffOptions{Revs: []string{c.ID.String()}, Parent: true, Paths: ps, Contents: o.contents(), Renames: o.renames})
	if err != nil {
		return nil, fmt.Errorf("show: %w", err)
	}
	o.noteRenameLimit(d.RenameLimit)
	var bad []string // a PATH in neither side is an error, as without --stat
	if len(ps) > 0 {
		if _, bad, err = showChanges(r, c, ps, diffOptions{}); err != nil {
			return nil, fmt.Errorf("show: %w", err)
		}
	}
	hdr.write(g.stdout, out.logEntry, first)
	switch {
	case len(out.Parents) > 1:
		io.WriteString(g.stdout, mergeSep(hdr))
	case o.prints(d.Changes) && !hdr.oneline():
		io.WriteString(g.stdout, o.headerSep())
	}
	w := bufio.NewWriterSize(g.stdout, 64<<10)
	if err := printDiff(w, d, o); err != nil {
		return nil, fmt.Errorf("show: %w", err)
	}
	return bad, w.Flush()
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func configOf(c *objects.Commit) showConfig {
	cfg := c.Config.Config
	return showConfig{OS: c.Config.OS, Architecture: c.Config.Architecture, Variant: c.Config.Variant, Env: cfg.Env,
		Entrypoint: cfg.Entrypoint, Cmd: cfg.Cmd, WorkingDir: cfg.WorkingDir, User: cfg.User}
}

func layersOf(c *objects.Commit) []showLayer {
	out := []showLayer{}
	for _, l := range c.Layers() {
		out = append(out, showLayer{Digest: l.Desc.Digest.String(), DiffID: l.DiffID.String(), MediaType: l.Desc.MediaType, Size: l.Desc.Size})
	}
	return out
}

// oneLine is a config string (Env, Cmd, User) from a pulled image as one
// printable line: controls escaped, newlines too, so that it can neither
// drive the terminal nor forge the lines after it.
func oneLine(s string) string {
	return pathquote.Name(s)
}

func printShow(w io.Writer, s showJSON, hdr commitHeader, first, nul bool) {
	hdr.write(w, s.logEntry, first)
	if s.Parent != "" {
		fmt.Fprintf(w, "\nParent: %s\n", s.Parent[len("sha256:"):][:12])
	} else {
		fmt.Fprintf(w, "\nParent: (root commit)\n")
	}
	c := s.Config
	platform := c.OS + "/" + c.Architecture
	if c.Variant != "" {
		platform += "/" + c.Variant
	}
	fmt.Fprintf(w, "Platform: %s\n", pathquote.Text(platform))
	for _, kv := range [][2]string{
		{"Entrypoint", strings.Join(c.Entrypoint, " ")}, {"Cmd", strings.Join(c.Cmd, " ")},
		{"WorkingDir", c.WorkingDir}, {"User", c.User},
	} {
		if kv[1] != "" {
			fmt.Fprintf(w, "%s: %s\n", kv[0], oneLine(kv[1]))
		}
	}
	for _, e := range c.Env {
		fmt.Fprintf(w, "Env: %s\n", oneLine(e))
	}
	var total int64
	fmt.Fprintf(w, "Layers: %d\n", len(s.Layers))
	for _, l := range s.Layers {
		total += l.Size
		fmt.Fprintf(w, "  %s  %10s  %s\n", l.Digest[len("sha256:"):][:12], humanSize(l.Size), l.MediaType)
	}
	fmt.Fprintf(w, "Total: %s\n", humanSize(total))
	if len(s.Changes) > 0 {
		fmt.Fprintln(w)
		for _, c := range s.Changes {
			printNameStatus(w, c, nul)
		}
	}
}

// printNameStatus writes a change as --name-status does: "M\t/path", and
// git's "R087\t/old\t/new" for a rename 87% similar ("C087" a copy);
// with nul (-z), as git's, "M\x00/path\x00", names as they are.
func printNameStatus(w io.Writer, c changeJSON, nul bool) {
	switch {
	case nul && c.Score != nil:
		fmt.Fprintf(w, "%s%03d\x00%s\x00%s\x00", c.Status, *c.Score, c.OldPath, c.Path)
		return
	case nul:
		fmt.Fprintf(w, "%s\x00%s\x00", c.Status, c.Path)
		return
	case c.Score != nil:
		fmt.Fprintf(w, "%s%03d\t%s\t%s\n", c.Status, *c.Score, pathquote.Quote(c.OldPath), pathquote.Quote(c.Path))
		return
	}
	fmt.Fprintf(w, "%s\t%s\n", c.Status, pathquote.Quote(c.Path))
}

// showList is the commits show shows, as git show takes revisions: when
// they hold a range (A..B, ^A, A...B, X^!, X^-N), every commit log lists
// for them, newest first (walked; with PATHs, those that changed them,
// and missing the PATHs none of the range has); else each commit named,
// in order (X^@: X's parents). set says the revisions name a set of
// commits (a range, X^@), not one each. ids is nil when they hold a
// REV:PATH, shown as it is.
type showList struct {
	ids         []string
	set, walked bool
	missing     []string
}

func showCommits(g *globals, r *repo.Repo, revs, paths []string) (showList, error) {
	if slices.ContainsFunc(revs, isRevPath) {
		return showList{}, nil
	}
	rr, err := parseRevRange(r, revs)
	if err != nil {
		return showList{}, err
	}
	l := showList{ids: []string{}}
	if len(rr.exclude) == 0 && len(rr.left) == 0 {
		for _, d := range rr.include {
			l.ids = append(l.ids, d.String())
		}
		l.set = slices.ContainsFunc(revs, func(rev string) bool {
			_, kind, _, ok := refs.SplitParentShorthand(rev)
			return ok && kind == refs.ParentsOf
		})
		return l, nil
	}
	l.set, l.walked = true, true
	tips, only, err := rr.tips(r)
	if err != nil {
		return showList{}, err
	}
	var hist *tree.History
	missing := map[string]bool{}
	if len(paths) > 0 {
		if paths, err = imagePaths(g, r, paths); err != nil {
			return showList{}, err
		}
		hist, paths = tree.NewHistory(r.Objects), cleanPaths(paths)
		if missing, err = missingAt(hist, r, tips, paths); err != nil {
			return showList{}, err
		}
	}
	w := newLogWalk(r, tips, only, false, false, hist, paths, nil, nil)
	defer w.close()
	for d, n := w.next(); d != ""; d, n = w.next() {
		if n.err != nil {
			return showList{}, fmt.Errorf("commit %s: %w", shortID(d), n.err)
		}
		if n.hidden {
			continue
		}
		if len(missing) > 0 {
			if err := markTouched(hist, d, missing); err != nil {
				return showList{}, err
			}
		}
		l.ids = append(l.ids, d.String())
	}
	for p := range missing {
		l.missing = append(l.missing, p)
	}
	return l, nil
}
