package main

import (
	"github.com/spf13/cobra"
)

func init() { register("switch", newSwitchCommand) }

// switch is git's: checkout's branch half, which takes branches only
// unless told to make one or to detach HEAD.
func newSwitchCommand(g *globals) *cobra.Command {
	var o checkoutFlags
	var create, force string
	cmd := &cobra.Command{
		Use:   "switch [-c|--force-create NEW] [-t|--no-track] [--detach] [--discard-changes] [--path DIR] [BRANCH|START]",
		Short: "Switch the work tree to a branch",
		Long: `Switch the work tree to BRANCH, as git switch does: checkout for
branches. A revision that is not a branch is refused unless --detach;
-c makes a new branch at START (default HEAD), --force-create makes it
or moves it there (git's -C: strata's -C is the global --chdir, as git's
own -C DIR). "-" is the branch before.

  strata switch dev                 # attach HEAD to branch dev
  strata switch -c feature v1       # new branch at v1
  strata switch --force-create feature v2   # make or move feature to v2
  strata switch --track origin/dev  # new branch dev at origin/dev, its upstream
  strata switch --detach main~2     # look at a commit
  strata switch -                   # back to the branch before

A new branch gets an upstream as branch's does (branch.autoSetupMerge:
from a remote-tracking START by default; -t, --track[=inherit] and
--no-track as checkout's: --track REMOTE/BRANCH alone makes BRANCH).
A BRANCH that resolves as no revision, dev, but names one remote's
branch (origin/dev) is made there, with that upstream, as git's guess
(see checkout: checkout.guess, checkout.defaultRemote, --no-guess).

Uncommitted changes are carried to the other commit when it differs
from this one nowhere they are, as checkout's (see there); otherwise the
switch is refused, naming the changes it would overwrite, unless
--discard-changes, which discards them all. The changes carried are
listed on stdout, as git's. With -m (--merge), a change to a file the
switch changes too is merged with BRANCH's, three ways, as git's switch
-m, a conflict left with markers and unmerged (see checkout --help).
After a switch to a branch with an
upstream, how the two stand is said on stdout, as git's. Any
switch is refused while a merge, rebase, cherry-pick or revert is
stopped here, as git's: finish or abort it first (checkout --force ends
a stopped merge, as git checkout does).

Exit status: 0 on success, 1 on errors, 2 on usage errors.`,
		Args: rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rev := ""
			if len(args) == 1 {
				rev = args[0]
			}
			if err := excludeEachOther(cmd, "create", "force-create", "detach"); err != nil {
				return err
			}
			for _, f := range []string{"discard-changes", "force"} {
				if err := excludeEachOther(cmd, f, "merge"); err != nil {
					return err
				}
			}
			if rev == "" && create == "" && force == "" && !o.detach && o.track == trackUnset {
				return usagef("switch: name a BRANCH, or -c NEW")
			}
			o.newBranch, o.resetTo, o.branchOnly = create, force, true
			return runCheckout(cmd, g, o, rev)
		},
	}
	cmd.Flags().StringVarP(&create, "create", "c", "", "create branch `NEW` at START and switch to it")
	// git's -C: strata's -C is the global --chdir, as git's own -C DIR.
	cmd.Flags().StringVar(&force, "force-create", "", "as -c, but move branch `NEW` to START if it exists")
	cmd.Flags().BoolVarP(&o.detach, "detach", "d", false, "detach HEAD at the revision")
	cmd.Flags().BoolVarP(&o.force, "discard-changes", "f", false, "discard uncommitted changes; swap the mount while processes use it")
	// git's --force, an alias: the in-use errors, shared with checkout,
	// say "use --force".
	cmd.Flags().BoolVar(&o.force, "force", false, "the same as --discard-changes, as git's")
	cmd.Flags().BoolVarP(&o.merge, "merge", "m", false, "merge the changes the switch would overwrite with the other commit's files, as git's")
	cmd.Flags().BoolVar(&o.ignoreOther, "ignore-other-worktrees", false, "switch to a branch another work tree has, keeping the changes here")
	cmd.Flags().StringVar(&o.path, "path", "", "switch the second work tree at `DIR`")
	cmd.Flags().BoolVarP(&o.quiet, "quiet", "q", false, "print nothing but errors")
	addTrackFlags(cmd.Flags(), &o.track, "the new branch (-c, --force-create, or the one --track names)")
	addGuessFlags(cmd.Flags(), &o.guess)
	return cmd
}
