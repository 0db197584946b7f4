package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// stash drop and clear: entries taken off the stash.

func newStashDropCommand(g *globals) *cobra.Command {
	var quiet bool
	cmd := &cobra.Command{
		Use:   "drop [STASH]",
		Short: "Remove a stash entry (default stash@{0})",
		Args:  rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			if err := dropStash(g, r, firstArg(args), "", quiet); err != nil {
				return fmt.Errorf("stash drop: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "say nothing on success")
	return cmd
}

// dropStash removes entry arg (stash@{N} or N) and says so, as git does;
// want, if set, is the commit it must still name (pop applied it).
func dropStash(g *globals, r *repo.Repo, arg string, want digest.Digest, quiet bool) error {
	n, ok := stashEntry(arg)
	if !ok {
		return notStashEntry(r, arg)
	}
	e, err := r.Refs.DropEntry(refs.Stash, n, want)
	if err != nil && !errors.Is(err, refs.ErrMoved) {
		if errors.Is(err, refs.ErrNoEntry) {
			entries, lerr := r.Refs.Log(refs.Stash)
			if lerr != nil {
				return err
			}
			return noStashEntry(arg, len(entries))
		}
		return err
	}
	if !quiet {
		fmt.Fprintf(g.stdout, "Dropped %s (%s)\n", stashEntryName(arg, n), e.New.Encoded())
	}
	return err
}

// stashEntryName is how git's stash names the entry it dropped: STASH as
// given when it is stash@{N}, else git's expansion refs/stash@{N}.
func stashEntryName(arg string, n int) string {
	if strings.HasPrefix(arg, "stash@{") {
		return arg
	}
	return fmt.Sprintf("refs/stash@{%d}", n)
}

func newStashClearCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "clear",
		Short: "Remove every stash entry",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			for {
				_, err := r.Refs.DropEntry(refs.Stash, 0, "")
				if errors.Is(err, refs.ErrNoEntry) {
					return nil
				}
				if err != nil && !errors.Is(err, refs.ErrMoved) {
					return fmt.Errorf("stash clear: %w", err)
				}
			}
		},
	}
}
