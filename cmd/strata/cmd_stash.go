package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/worktree"
)

func init() { register("stash", newStashCommand) }

func newStashCommand(g *globals) *cobra.Command {
	var message string
	var force, untracked, quiet bool
	// Errors are named by nameCommand: "stash: ", "stash push: ".
	push := func(cmd *cobra.Command, args []string) error {
		if cmd.Name() == "stash" && cmd.ArgsLenAtDash() != 0 && len(args) > 0 {
			// 'stash PATH' would read a misspelt subcommand as a path.
			return usagef("unknown subcommand %q (paths go after --: 'strata stash -- PATH', or 'strata stash push PATH')", args[0])
		}
		_, w, err := openWorktree(g, "")
		if err != nil {
			return err
		}
		paths, err := imagePaths(g, w.Repo, args)
		if err != nil {
			return err
		}
		if len(paths) > 0 {
			if err := stashPathsExist(cmd.Context(), w, paths); err != nil {
				return err
			}
		}
		c, err := w.Stash(cmd.Context(), message, paths, force)
		if errors.Is(err, worktree.ErrNoLocalChanges) {
			if !quiet {
				fmt.Fprintln(g.stdout, "No local changes to save")
			}
			return nil
		}
		if c != nil && !quiet {
			fmt.Fprintf(g.stdout, "Saved working directory state %s\n", pathquote.Text(c.Message()))
		}
		if err != nil {
			return err
		}
		return nil
	}
	cmd := &cobra.Command{
		Use:   "stash [push [-m MSG] [--] [PATH...] | list | show | apply | pop | drop | clear]",
		Short: "Put the work tree's changes aside, and bring them back",
		Long: `Save the work tree's uncommitted changes and drop them from it, as git
stash does, so that a switch, pull or rebase can go ahead; bring them
back later, on the same commit or another.

  strata stash                 # save, as "WIP on BRANCH: ID SUBJECT"
  strata stash push -m "half a config"
  strata stash push -- /etc/nginx   # only the changes at or below PATHs
  strata stash list            # stash@{0} is the latest
  strata stash show -p stash@{1}
  strata stash pop             # apply stash@{0}, and drop it unless it conflicts
  strata stash apply 1         # apply stash@{1}, keep it
  strata stash drop stash@{1}
  strata stash clear
  strata stash branch fix-motd     # stash@{0} on a new branch where it was made

Each entry is a commit on top of the one the work tree was on, holding
the changes as one layer: a complete image ('strata run --rev stash@{0}')
that the reflog of refs/stash lists and gc keeps until the entry expires
(gc.reflogExpire, else 90 days) or is dropped. Paths the exclude rules
leave out are neither saved nor dropped, as in git. A config staged by
'reset --soft' is saved too, as git's stash saves the index: the entry's
commit records it (a staged config alone is a change to stash), and
apply and pop stage it again, refused while another config is staged
or when HEAD changed one of its fields since, to another value (a
config holds no conflict markers; 'stash branch' applies it where it
was made).

apply and pop merge the stash's changes into the work tree over the
commit it was made on, as git's do, so they apply after HEAD has moved.
They write through the mount, as git writes its files: the work tree's
own changes stay, and one at a path the stash changes (or above or below
one) is refused, naming it, before anything is written. A conflict is
written with markers ("Updated upstream" and "Stashed changes"), as git
writes it; the entry then stays, and nothing is under way: fix the
files, then commit or stash again. 'stash branch
NAME' applies an entry without conflicts: on a new branch made at the
commit the entry was made on. Afterwards apply, pop and branch print
the work tree's status, as 'strata status' prints it and as git's do,
conflicts or not; pop then says "Dropped stash@{0} (ID)". -q prints
neither.

With PATHs (from where you stand, as diff reads them; globs as git's
pathspecs), only the changes at or below them are saved, then put back
as HEAD has them through the mount, as apply writes; the others stay. A
PATH that names nothing changed and nothing in HEAD is an error.

STASH is stash@{N}, or N alone; show and apply also take any revision
(stash, the latest entry, among them). drop, pop and branch refuse any
other, as git 2.39's do: "not a reflog: stash", "'main' is not a stash
reference", "nosuch is not a valid reference" (exit 1; git's pop and
branch apply the entry before they refuse, strata refuses first).
stash (push) without PATHs remounts the work tree, as reset --hard does:
it refuses while a container or process uses the tree or has a file
open for writing in it, unless --force (the users keep the old mount).
Until the new mount is up, the tree is read-only.

Exit status: 0 on success (also when there is nothing to save), 1 on
errors and conflicts, 2 on usage errors.`,
		Args: cobra.ArbitraryArgs, // paths after --; push says what else is wrong
		RunE: push,
	}
	pushCmd := &cobra.Command{
		Use:   "push [-m MSG] [--] [PATH...]",
		Short: "Save the work tree's changes and drop them from it (the default)",
		Args:  cobra.ArbitraryArgs,
		RunE:  push,
	}
	// 'stash' alone is 'stash push', with its flags.
	for _, c := range []*cobra.Command{cmd, pushCmd} {
		c.Flags().StringVarP(&message, "message", "m", "", "describe the entry with `MSG` in place of WIP on BRANCH: ID SUBJECT")
		c.Flags().BoolVar(&force, "force", false, "remount even while a container or process uses the work tree")
		c.Flags().BoolVarP(&untracked, "include-untracked", "u", false, "accepted for git's -u: with no index, new paths are always saved")
		c.Flags().BoolVarP(&quiet, "quiet", "q", false, "say nothing on success")
	}
	cmd.AddCommand(pushCmd, newStashListCommand(g), newStashShowCommand(g),
		newStashApplyCommand(g, "apply"), newStashApplyCommand(g, "pop"),
		newStashDropCommand(g), newStashClearCommand(g), newStashBranchCommand(g))
	return cmd
}

// stashPathsExist refuses a PATH that names neither a change nor a path
// of the work tree's commit, as git's "did not match any file(s)".
func stashPathsExist(ctx context.Context, w *worktree.Worktree, paths []string) error {
	changes, err := w.Status(ctx)
	if err != nil {
		return err
	}
	bad, err := diffMissing(ctx, w, nil, paths, changes)
	if err != nil {
		return err
	}
	return missingPaths(bad)
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s: takes no arguments, got %q", cmd.CommandPath()[len("strata "):], args[0])
	}
	return nil
}
