package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/internal/pathquote"
)

func init() { register("restore", newRestoreCommand) }

func newRestoreCommand(g *globals) *cobra.Command {
	var source, path string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "restore [--source REV] PATH...",
		Short: "Put files back in the work tree as a revision has them",
		Long: `Write what REV (default HEAD) has at each PATH into the work tree: a
file's content, mode, owner, mtime and xattrs, a symlink, a device, or a
directory with everything below it, as git restore --source REV
--overlay and git checkout REV -- PATH do. HEAD does not move and nothing
is committed; what the work tree has under a PATH that REV does not is
kept, unless REV has a file or symlink where the work tree has that
directory: then the directory goes, with all in it, as in git. PATHs
are resolved as in diff (relative to where you stand in a work tree;
/ is the image root). A PATH that REV does not have is an error, and
then nothing is written.

While a rebase is stopped on a conflict, "HEAD" here is the commit the
work tree shows (the new base so far), as git's HEAD is then: restore
without --source undoes your edits of the step.

  strata restore /etc/motd                 # undo your changes to one file
  strata restore --source main~3 /etc/nginx
  strata checkout main~3 -- /etc/nginx     # the same, as git spells it`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("restore: name at least one PATH")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRestore(cmd, g, path, source, args, quiet)
		},
	}
	cmd.Flags().StringVarP(&source, "source", "s", "", "the revision to take the files from (default HEAD)")
	cmd.Flags().StringVar(&path, "path", "", "restore in the work tree at `DIR` instead of <project>/rootfs")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print nothing but errors")
	return cmd
}

// runRestore is restore, and checkout REV -- PATH; rev "" is HEAD (or,
// while a rebase is stopped, the commit the work tree shows).
func runRestore(cmd *cobra.Command, g *globals, dir, rev string, args []string, quiet bool) error {
	r, w, err := openCheckedOut(g, dir)
	if err != nil {
		return err
	}
	paths, err := imagePaths(g, r, args)
	if err != nil {
		return err
	}
	n, err := w.Restore(cmd.Context(), rev, cleanPaths(paths))
	if err != nil {
		return err
	}
	if !quiet {
		// As git, on stderr: what was written, not output to parse.
		if rev == "" {
			rev = "HEAD"
		}
		fmt.Fprintf(g.stderr, "Updated %s from %s\n", plural(n, "path"), pathquote.Text(rev))
	}
	return nil
}
