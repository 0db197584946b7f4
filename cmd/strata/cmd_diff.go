package main

import (
	"context"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/tree"
	"github.com/strata-sh/strata/worktree"
)

func init() { register(newDiffCommand) }

type diffOptions struct {
	nameStatus, stat, patch bool
	format                  string
}

func newDiffCommand(g *globals) *cobra.Command {
	var o diffOptions
	cmd := &cobra.Command{
		Use:   "diff [--name-status | --stat | -p] [--format json] [REV [REV2]] [-- PATH...]",
		Short: "Show changes between the work tree and revisions",
		Long: `Show what changed, one path a line: A added, M modified, D deleted,
T type changed, with mode, owner, link and xattr changes in parentheses.

  strata diff                  # the work tree against the commit it is based on
  strata diff REV              # the work tree against REV
  strata diff REV1 REV2        # between two revisions, from their file indexes:
                               # no layer is unpacked
  strata diff v1 main -- /etc  # only paths under /etc

  --name-status   letter and path only
  --stat          lines added and removed per file, and a summary
  -p              unified diffs for text files ("Binary files differ" otherwise);
                  file content is streamed from the layers that hold it
  --format json   an array of {"status","path","old","new"}; old and new give
                  type, mode, uid, gid, size, digest and link

Exit status: 0 on success, 1 on errors, 2 on usage errors.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(o.format); err != nil {
				return err
			}
			revs, paths := args, []string(nil)
			if n := cmd.ArgsLenAtDash(); n >= 0 {
				revs, paths = args[:n], cleanPaths(args[n:])
			}
			if len(revs) > 2 {
				return usagef("diff: takes at most two revisions")
			}
			r, w, err := openWorktree(g, "")
			if err != nil {
				return err
			}
			return runDiff(cmd.Context(), g.stdout, r, w, revs, paths, o)
		},
	}
	cmd.Flags().BoolVar(&o.nameStatus, "name-status", false, "show only the status letter and path")
	cmd.Flags().BoolVar(&o.stat, "stat", false, "show lines added and removed per file")
	cmd.Flags().BoolVarP(&o.patch, "patch", "p", false, "show unified diffs")
	cmd.Flags().StringVar(&o.format, "format", "text", "output format: text or json")
	return cmd
}

// cleanPaths makes PATH arguments absolute paths of the tree: "etc/" -> "/etc".
func cleanPaths(ps []string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = path.Clean("/" + p)
	}
	return out
}

// side is one end of a diff: a revision, or the work tree.
type side struct {
	commit *objects.Commit // nil with work: the work tree's base
	work   *worktree.Worktree
}

func runDiff(ctx context.Context, out io.Writer, r *repo.Repo, w *worktree.Worktree, revs, paths []string, o diffOptions) error {
	trees := tree.NewTrees(r.Objects)
	var changes []tree.Change
	var from, to side
	switch len(revs) {
	case 0:
		cs, err := w.Status(ctx)
		if err != nil {
			return fmt.Errorf("diff: %w", err)
		}
		base, err := w.BaseCommit(ctx)
		if err != nil {
			return fmt.Errorf("diff: %w", err)
		}
		for _, c := range cs {
			if underPaths(c.Path, paths) {
				changes = append(changes, c)
			}
		}
		from, to = side{commit: base}, side{work: w}
	case 1:
		a, err := w.Resolve(revs[0])
		if err != nil {
			return fmt.Errorf("diff: %w", err)
		}
		ta, err := trees.Of(a)
		if err != nil {
			return fmt.Errorf("diff: %w", err)
		}
		tw, _, err := w.WorkTree(ctx)
		if err != nil {
			return fmt.Errorf("diff: %w", err)
		}
		changes = tree.DiffTrees(ta, tw, paths)
		from, to = side{commit: a}, side{work: w}
	case 2:
		a, err := w.Resolve(revs[0])
		if err != nil {
			return fmt.Errorf("diff: %w", err)
		}
		b, err := w.Resolve(revs[1])
		if err != nil {
			return fmt.Errorf("diff: %w", err)
		}
		if changes, err = tree.DiffRevisions(trees, a, b, paths); err != nil {
			return fmt.Errorf("diff: %w", err)
		}
		from, to = side{commit: a}, side{commit: b}
	}
	if o.format == "json" {
		return writeJSON(out, toChangesJSON(changes))
	}
	switch {
	case o.nameStatus:
		for _, c := range changes {
			fmt.Fprintf(out, "%c\t%s\n", c.Kind, c.Path)
		}
		return nil
	case o.stat || o.patch:
		h := tree.NewHistory(r.Objects)
		old, err := contents(h, from, changes, false)
		if err != nil {
			return fmt.Errorf("diff: %w", err)
		}
		nu, err := contents(h, to, changes, true)
		if err != nil {
			return fmt.Errorf("diff: %w", err)
		}
		if o.stat {
			printStat(out, changes, old, nu)
			return nil
		}
		for _, c := range changes {
			if c.Kind == tree.Modified && len(c.Details()) == 0 && c.Old.Type == layer.TypeDir {
				continue
			}
			if d := c.Details(); len(d) > 0 {
				fmt.Fprintf(out, "# %s: %s\n", c.Path, strings.Join(d, ", "))
			}
			if err := tree.WritePatch(out, c, old[c.Path], nu[c.Path]); err != nil {
				return fmt.Errorf("diff: %w", err)
			}
		}
		return nil
	}
	for _, c := range changes {
		line := fmt.Sprintf("%c %s", c.Kind, c.Path)
		if d := c.Details(); len(d) > 0 {
			line += " (" + strings.Join(d, ", ") + ")"
		}
		fmt.Fprintln(out, line)
	}
	return nil
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
	if s.work != nil {
		out := map[string][]byte{}
		for _, c := range changes {
			b, err := worktree.ReadWorkFile(s.work, c.Path, entry(c))
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
	var layers []objects.Layer
	if s.commit != nil {
		for i, d := range s.commit.Manifest.Layers {
			layers = append(layers, objects.Layer{Desc: d, DiffID: s.commit.Config.RootFS.DiffIDs[i]})
		}
	}
	return h.ReadContents(layers, want)
}

func printStat(out io.Writer, changes []tree.Change, old, nu map[string][]byte) {
	width := 0
	for _, c := range changes {
		width = max(width, len(c.Path))
	}
	files, adds, dels := 0, 0, 0
	for _, c := range changes {
		if c.Kind == tree.Modified && c.Old.Type == layer.TypeDir {
			continue
		}
		files++
		o, n := old[c.Path], nu[c.Path]
		if tree.IsBinary(o) || tree.IsBinary(n) {
			fmt.Fprintf(out, " %-*s | Bin %d -> %d bytes\n", width, c.Path, len(o), len(n))
			continue
		}
		a, d := tree.LineCounts(o, n)
		adds, dels = adds+a, dels+d
		fmt.Fprintf(out, " %-*s | %d %s%s\n", width, c.Path, a+d, strings.Repeat("+", min(a, 40)), strings.Repeat("-", min(d, 40)))
	}
	fmt.Fprintf(out, " %d files changed, %d insertions(+), %d deletions(-)\n", files, adds, dels)
}

func underPaths(p string, paths []string) bool {
	if len(paths) == 0 {
		return true
	}
	for _, q := range paths {
		if q == "/" || p == q || strings.HasPrefix(p, q+"/") {
			return true
		}
	}
	return false
}
