package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/worktree"
)

func init() { register(newPullCommand) }

func newPullCommand(g *globals) *cobra.Command {
	var o transferFlags
	var force bool
	cmd := &cobra.Command{
		Use:   "pull [REMOTE [BRANCH]]",
		Short: "Fetch a branch and fast-forward it and the work tree",
		Long: `Fetch BRANCH (default: the current branch) from REMOTE (default: the
branch's remote, else origin), then fast-forward the local branch to it,
and the work tree if it shows that branch. Only fast-forwards: a branch
that has diverged from the remote is refused (strata does not merge yet).
A work tree with uncommitted changes is refused before anything moves, and
so is one with a container running in it (strata run) unless --force.

Exit status: 0 on success, 1 on errors, 2 on usage errors.`,
		Args: rangeArgs(0, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			h, err := r.Refs.ReadHead()
			if err != nil {
				return err
			}
			branch := refs.ShortName(h.Branch)
			if len(args) == 2 {
				branch = args[1]
			}
			if branch == "" {
				return usagef("pull: HEAD is detached: name the branch to pull")
			}
			remoteArg, ok := r.Config.Get("branch." + branch + ".remote")
			if !ok {
				remoteArg = "origin"
			}
			if len(args) > 0 {
				remoteArg = args[0]
			}
			fail := func(err error) error { return fmt.Errorf("pull %s %s: %w", remoteArg, branch, err) }
			up, err := worktree.PrepareBranchUpdate(ctx, r, branch, force)
			if err != nil {
				return fail(err)
			}
			rem, err := resolveRemote(r, remoteArg)
			if err != nil {
				return fail(err)
			}
			s, p, err := connect(g, r, rem, o, "receive")
			if err != nil {
				return fail(err)
			}
			res, err := s.Fetch(ctx, r, []string{branch})
			p.finish()
			if err != nil {
				return fail(err)
			}
			warnInvalid(g, "pull", remoteArg, res)
			printFetch(g, s, res, o.quiet)
			if len(res.Tags) != 1 || res.Tags[0].New == "" {
				return fail(errors.New("the remote has no image under that tag"))
			}
			to := res.Tags[0].New
			old, err := up.FastForward(ctx, to, "pull: fast-forward")
			switch {
			case err != nil:
				return fail(err)
			case old == to:
				fmt.Fprintln(g.stdout, "Already up to date.")
			case old == "":
				fmt.Fprintf(g.stdout, "Branch %s created at %s\n", branch, shortID(to))
			default:
				fmt.Fprintf(g.stdout, "Fast-forward %s..%s\n", shortID(old), shortID(to))
			}
			return nil
		},
	}
	o.add(cmd)
	cmd.Flags().BoolVar(&force, "force", false, "move the work tree even while a container or process uses it")
	return cmd
}
