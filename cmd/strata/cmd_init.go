package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/worktree"
)

func init() { register("init", newInitCommand) }

func newInitCommand(g *globals) *cobra.Command {
	var branch string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "init [DIR]",
		Short: "Create an empty repository",
		Long: `Create an empty repository in DIR (default: the current directory).
The repository lives in DIR/.strata and is a valid OCI image layout.
A work tree, or a directory below one, is refused: it is an image's
root, and a repository there would be committed into the image.

In an existing repository init changes nothing and exits 0, as git's:
it makes only the layout's directories that are missing, keeps HEAD,
config, refs and objects, says "Reinitialized existing strata
repository in DIR/.strata", and warns that --initial-branch is ignored.`,
		Args: rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			// A work tree is an image's root: a repository there would
			// be committed into the image, and take over every command
			// run below it.
			if p, ok := worktree.Containing(dir); ok {
				abs, _ := filepath.Abs(dir)
				return fmt.Errorf("init: %s is inside the work tree of the repository at %s", abs, p)
			}
			if repo.Exists(dir) {
				return reinit(g, cmd, dir, quiet)
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

// reinit is git's init run again: nothing is lost, what is missing of
// the layout is made, and -b is ignored with a warning.
func reinit(g *globals, cmd *cobra.Command, dir string, quiet bool) error {
	r, err := repo.Reinit(dir)
	if err != nil {
		return fmt.Errorf("init: %w", err)
	}
	if f := cmd.Flags().Lookup("initial-branch"); f.Changed {
		fmt.Fprintf(g.stderr, "strata: warning: re-init: ignored --initial-branch=%s\n", f.Value)
	}
	if !quiet {
		fmt.Fprintf(g.stdout, "Reinitialized existing strata repository in %s\n", r.Root)
	}
	return nil
}
