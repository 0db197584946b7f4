package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/remote"
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
			onHead := h.Branch == refs.Heads+branch
			w := worktree.Main(r)
			_, mounted, err := w.State()
			if err != nil {
				return fail(err)
			}
			if onHead && mounted && !force {
				if err := w.RefuseWhileRunning(); err != nil {
					return fail(err)
				}
			}
			if onHead && mounted {
				changes, err := w.Status(ctx)
				if err != nil {
					return fail(err)
				}
				if len(changes) > 0 {
					return fail(fmt.Errorf("%d uncommitted changes in %s: commit them first", len(changes), w.Target()))
				}
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
			old, _ := r.Refs.Read(refs.Heads + branch)
			if old == to {
				fmt.Fprintln(g.stdout, "Already up to date.")
				return nil
			}
			if old != "" {
				ff, err := remote.IsAncestor(r.Objects, old, to)
				if err != nil {
					return fail(err)
				}
				if !ff {
					return fail(fmt.Errorf("branch and remote have diverged: %w (strata does not merge yet)", remote.ErrNonFastForward))
				}
			}
			if onHead && mounted {
				if _, err := w.Reset(ctx, to.String(), worktree.ResetHard); err != nil {
					return fail(err)
				}
			} else if _, err := remote.FastForward(r, branch, to, "pull: fast-forward"); err != nil {
				return fail(err)
			}
			if old == "" {
				fmt.Fprintf(g.stdout, "Branch %s created at %s\n", branch, shortID(to))
			} else {
				fmt.Fprintf(g.stdout, "Fast-forward %s..%s\n", shortID(old), shortID(to))
			}
			return nil
		},
	}
	o.add(cmd)
	cmd.Flags().BoolVar(&force, "force", false, "move the work tree even while a container runs in it")
	return cmd
}
