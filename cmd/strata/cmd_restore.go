package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/worktree"
)

func init() { register("restore", newRestoreCommand) }

func newRestoreCommand(g *globals) *cobra.Command {
	var source, path string
	var quiet, ours, theirs bool
	cmd := &cobra.Command{
		Use:   "restore [--source REV | --ours | --theirs] PATH...",
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
without --source undoes your edits of the step's paths not in conflict.

While a merge, rebase, cherry-pick or revert is stopped on a conflict,
restore without --source refuses a conflicted PATH, as git's does: HEAD's
version would drop the other side's change there unseen. --ours takes
the version of the commit the work tree shows (HEAD; in a rebase, the new
base so far), --theirs that of what is merged in (the other branch, the
commit being picked or replayed, a reverted commit's parent), as the
conflict markers name them. A marked file so restored holds no markers,
and --continue takes it. Only the conflicts at or below each PATH take a
side; the merge's other results there stay as they are (git takes them
from its index, which a work tree is). A PATH with no conflict at or
below it is refused, and so is a side that deleted a conflicted path
("/etc/x does not have our version", as git's checkout), exit 1; then
nothing is written. A path a checkout -m left unmerged is refused
without a side (the local change is only in the work tree); --ours (or
--source HEAD) takes the version switched to and ends the conflict;
--theirs, the local version, is refused: it is only in the markers.
checkout --ours/--theirs -- PATH is the same.

  strata restore /etc/motd                 # undo your changes to one file
  strata restore --source main~3 /etc/nginx
  strata checkout main~3 -- /etc/nginx     # the same, as git spells it
  strata restore --theirs /etc/nginx.conf  # a conflict: take the other side's`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("restore: name at least one PATH")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := excludeEachOther(cmd, "source", "ours", "theirs"); err != nil {
				return err
			}
			switch {
			case ours:
				return runRestoreSide(cmd, g, path, worktree.Ours, args, quiet)
			case theirs:
				return runRestoreSide(cmd, g, path, worktree.Theirs, args, quiet)
			}
			return runRestore(cmd, g, path, source, args, quiet)
		},
	}
	cmd.Flags().StringVarP(&source, "source", "s", "", "the revision to take the files from (default HEAD)")
	cmd.Flags().BoolVar(&ours, "ours", false, "take the conflicted paths as HEAD has them (in a rebase: the new base; after checkout -m: the version switched to)")
	cmd.Flags().BoolVar(&theirs, "theirs", false, "take a stopped step's conflicted paths as the side merged in has them")
	cmd.Flags().StringVar(&path, "path", "", "restore in the work tree at `DIR` instead of <project>/rootfs")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print nothing but errors")
	return cmd
}

// runRestore is restore, and checkout REV -- PATH; rev "" is HEAD (or,
// while a rebase is stopped, the commit the work tree shows).
func runRestore(cmd *cobra.Command, g *globals, dir, rev string, args []string, quiet bool) error {
	return restorePaths(g, dir, args, quiet, func(w *worktree.Worktree, paths []string) (int, string, error) {
		n, err := w.Restore(cmd.Context(), rev, paths)
		if rev == "" {
			rev = "HEAD"
		}
		return n, rev, err
	})
}

// runRestoreSide is restore --ours and --theirs.
func runRestoreSide(cmd *cobra.Command, g *globals, dir string, side worktree.Side, args []string, quiet bool) error {
	return restorePaths(g, dir, args, quiet, func(w *worktree.Worktree, paths []string) (int, string, error) {
		n, err := w.RestoreSide(cmd.Context(), side, paths)
		return n, side.String(), err
	})
}

// sideArgs checks checkout --ours/--theirs [--] PATH...: paths, no REV.
func sideArgs(cmd *cobra.Command, args []string) error {
	switch n := cmd.ArgsLenAtDash(); {
	case len(args) == 0 || n == len(args):
		return usagef("checkout: '--ours/--theirs' cannot be used with switching branches")
	case n > 0:
		return usagef("checkout --ours/--theirs -- PATH: no REV: the side names the version")
	}
	return nil
}

// runCheckoutSide is checkout --ours/--theirs -- PATH, restore's.
func runCheckoutSide(cmd *cobra.Command, g *globals, o checkoutFlags, paths []string) error {
	if err := excludeEachOther(cmd, "ours", "theirs"); err != nil {
		return err
	}
	if o.newBranch != "" || o.resetTo != "" || o.detach || o.force || o.merge || o.track != trackUnset {
		return usagef("checkout --ours/--theirs: -b, -B, --detach, --force, -m, --track and --no-track do not apply to restoring paths")
	}
	side := worktree.Ours
	if o.theirs {
		side = worktree.Theirs
	}
	return runRestoreSide(cmd, g, o.path, side, paths, o.quiet)
}

// restorePaths runs restore, which writes the PATHs args name (as the
// image sees them) and says what it wrote from.
func restorePaths(g *globals, dir string, args []string, quiet bool, restore func(*worktree.Worktree, []string) (int, string, error)) error {
	r, w, err := openCheckedOut(g, dir)
	if err != nil {
		return err
	}
	paths, err := imagePaths(g, r, args)
	if err != nil {
		return err
	}
	n, from, err := restore(w, cleanPaths(paths))
	if err != nil {
		return err
	}
	if !quiet {
		// As git, on stderr: what was written, not output to parse.
		fmt.Fprintf(g.stderr, "Updated %s from %s\n", plural(n, "path"), pathquote.Text(from))
	}
	return nil
}
