package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/worktree"
)

func init() { register("reset", newResetCommand) }

func newResetCommand(g *globals) *cobra.Command {
	var hard, soft, mixed, keep, merge, force, quiet bool
	cmd := &cobra.Command{
		Use:   "reset [--hard | --soft | --mixed | --keep | --merge] [REV]",
		Short: "Move HEAD's branch to a revision and remount the work tree",
		Long: `Move HEAD (its branch, if attached) to REV (default HEAD) and remount the
work tree on it: 'reset --hard' alone drops the uncommitted changes.

  --hard   drop the work tree's uncommitted changes (excluded paths are kept)
           and a staged config
  --soft   keep every file as it is, as git's does: what the commits between
           REV and the old HEAD changed now shows as uncommitted, and
           keep the config too: the old HEAD's, when it is not REV's, is
           staged for the next commit (status shows "config: Cmd, Env"),
           so 'reset --soft HEAD~2' then 'commit' squashes two commits,
           their --change's included
  --mixed  the default, git's: a work tree has no index to reset, so it is
           --soft
  --keep   move the work tree to REV keeping its uncommitted changes, as
           git's: refused, changing nothing, when a path that differs
           between HEAD and REV (or a directory above one, or a path below
           one that is no directory in both, nor one REV deletes) has
           uncommitted changes other than a deletion of what REV deletes
           too or leaves as it was, and, as git's, while a merge,
           cherry-pick, revert or rebase is stopped on its conflicts; a
           directory REV deletes stays for a new file in it, as git's; a
           staged config goes along to a REV whose config is HEAD's, and
           is refused otherwise
  --merge  --keep, as git's (every change is unstaged: there is no index),
           except over a stopped merge, cherry-pick, revert or rebase step:
           what the step wrote (clean changes, conflict markers, their
           resolution) is dropped first and the changes beside it kept, so
           'reset --merge' ends a conflicted merge as git users use it

The commit HEAD was at is kept in ORIG_HEAD, as git keeps it (merge and
rebase set it too): 'reset --hard ORIG_HEAD' undoes the last of them.

A merge, cherry-pick or revert in progress ends, as git's reset ends it
(as their --quit would: the commits it made so far are dropped); a later
commit is then an ordinary one. A rebase stays in progress.

A work tree in use (a container running in it, a process with its cwd
or a file open there) is not remounted unless --force: it would keep the
old mount. The check is made before anything moves, and --hard keeps the
tree read-only from then until the new mount is up, so that a write
made meanwhile fails rather than go with the dropped changes.

Exit status: 0 on success, 1 on errors, 2 on usage errors.`,
		Args: rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if n := btoi(hard) + btoi(soft) + btoi(mixed) + btoi(keep) + btoi(merge); n > 1 {
				return usagef("reset: give at most one of --hard, --soft, --mixed, --keep and --merge")
			}
			mode := worktree.ResetSoft
			switch {
			case hard:
				mode = worktree.ResetHard
			case keep:
				mode = worktree.ResetKeep
			case merge:
				mode = worktree.ResetMerge
			}
			_, w, err := openWorktree(g, "")
			if err != nil {
				return err
			}
			rev := "HEAD"
			if len(args) == 1 {
				rev = args[0]
			}
			c, err := w.ResetWith(cmd.Context(), worktree.ResetOptions{Rev: rev, Mode: mode, Force: force})
			if err != nil {
				return err
			}
			if !quiet {
				fmt.Fprintf(g.stdout, "HEAD is now at %s %s\n", shortID(c.ID), pathquote.Text(firstLine(c.Message())))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&hard, "hard", false, "discard uncommitted changes")
	cmd.Flags().BoolVar(&soft, "soft", false, "keep uncommitted changes")
	cmd.Flags().BoolVar(&mixed, "mixed", false, "the default, as git's: the same as --soft (there is no index)")
	cmd.Flags().BoolVar(&keep, "keep", false, "keep uncommitted changes; refuse if one is at a path REV changes")
	cmd.Flags().BoolVar(&merge, "merge", false, "--keep, dropping first what a stopped merge, cherry-pick, revert or rebase step wrote")
	cmd.Flags().BoolVar(&force, "force", false, "remount even while a container or process uses the work tree")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print nothing but errors")
	return cmd
}
