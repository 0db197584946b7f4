package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

func init() { register("init", newInitCommand) }

func newInitCommand(g *globals) *cobra.Command {
	var branch string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "init [DIR]",
		Short: "Create an empty repository",
		Long: `Create an empty repository in DIR (default: the current directory).
The repository lives in DIR/.strata and is a valid OCI image layout.`,
		Args: rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			r, err := repo.Init(dir, branch)
			if errors.Is(err, refs.ErrBadName) {
				return usagef("init: %w", err)
			}
			if err != nil {
				return fmt.Errorf("init: %w", err)
			}
			if quiet {
				return nil
			}
			fmt.Fprintf(g.stdout, "Initialized empty strata repository in %s\n", r.Root)
			return nil
		},
	}
	cmd.Flags().StringVarP(&branch, "initial-branch", "b", "main", "name of the first branch")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print nothing but errors")
	return cmd
}
