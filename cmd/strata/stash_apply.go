package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/worktree"
)

// stash apply, pop and branch: an entry's changes back in a work tree.

func newStashApplyCommand(g *globals, verb string) *cobra.Command {
	short := "Merge a stash entry's changes into the work tree, keeping the entry"
	if verb == "pop" {
		short = "Apply a stash entry, then drop it unless it conflicted"
	}
	var quiet bool
	cmd := &cobra.Command{
		Use:   verb + " [STASH]",
		Short: short,
		Args:  rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, w, err := openWorktree(g, "")
			if err != nil {
				return err
			}
			arg := firstArg(args)
			id, err := stashCommit(r, arg, verb == "apply")
			if err != nil {
				return fmt.Errorf("stash %s: %w", verb, err)
			}
			if err := w.ApplyStash(cmd.Context(), id, verb); err != nil {
				var ce *worktree.StashConflictError
				if !errors.As(err, &ce) {
					return fmt.Errorf("stash %s: %w", verb, err)
				}
				for _, c := range ce.Paths {
					fmt.Fprintf(g.stdout, "CONFLICT (%s): %s\n", c.Kind, pathquote.Quote(c.Path))
				}
				// The work tree holds the merge: git shows its status.
				if !quiet {
					if serr := longStatus(cmd.Context(), g, r, w); serr != nil {
						return fmt.Errorf("stash %s: %w", verb, serr)
					}
				}
				return fmt.Errorf("stash %s: %w", verb, err)
			}
			if !quiet {
				if err := longStatus(cmd.Context(), g, r, w); err != nil {
					return fmt.Errorf("stash %s: %w", verb, err)
				}
			}
			if verb == "pop" {
				if err := dropStash(g, r, arg, id, quiet); err != nil {
					return fmt.Errorf("stash pop: %w", err)
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print no status afterwards, and for pop no \"Dropped\" line")
	return cmd
}

func newStashBranchCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "branch NAME [STASH]",
		Short: "Make branch NAME where a stash entry was made, switch to it, and pop the entry there",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 { // git's words (its exit 1; strata's 2 for a missing argument)
				return usagef("no branch name specified (usage: %s)", strings.TrimSuffix(cmd.UseLine(), " [flags]"))
			}
			return rangeArgs(1, 2)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			r, w, err := openWorktree(g, "")
			if err != nil {
				return err
			}
			arg := ""
			if len(args) == 2 {
				arg = args[1]
			}
			id, err := stashCommit(r, arg, false)
			if err != nil {
				return fmt.Errorf("stash branch: %w", err)
			}
			c, err := r.Objects.ReadCommit(id)
			if err != nil {
				return fmt.Errorf("stash branch: %w", err)
			}
			if err := w.RefuseWhileRunning(); err != nil {
				return fmt.Errorf("stash branch: %w", err)
			}
			if _, err := w.Checkout(cmd.Context(), worktree.CheckoutOptions{Rev: c.Parent().String(), NewBranch: args[0], RefuseStopped: true}); err != nil {
				return fmt.Errorf("stash branch: %w", err)
			}
			fmt.Fprintf(g.stderr, "Switched to a new branch '%s'\n", pathquote.Text(args[0]))
			// On the commit it was made on, the entry applies without
			// conflicts.
			if err := w.ApplyStash(cmd.Context(), id, "branch"); err != nil {
				return fmt.Errorf("stash branch: %w", err)
			}
			if err := longStatus(cmd.Context(), g, r, w); err != nil {
				return fmt.Errorf("stash branch: %w", err)
			}
			if err := dropStash(g, r, arg, id, false); err != nil {
				return fmt.Errorf("stash branch: %w", err)
			}
			return nil
		},
	}
}
