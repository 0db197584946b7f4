package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/worktree"
)

func init() { register(newGCCommand) }

func newGCCommand(g *globals) *cobra.Command {
	var prune string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "gc",
		Short: "Remove blobs no ref, HEAD or reflog entry reaches",
		Long: `Remove content that nothing reaches: not a branch, tag, remote-tracking
ref, HEAD, nor any commit a reflog remembers.
Unreachable blobs younger than --prune (default 1h) are kept, so that a
command writing a commit at the same moment is safe; --prune=now removes
them all.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			grace, err := parsePrune(prune)
			if err != nil {
				return err
			}
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			res, err := r.GC(worktree.GCOptions(repo.GCOptions{Grace: grace, DryRun: dryRun}))
			if err != nil {
				return fmt.Errorf("gc: %w", err)
			}
			verb := "removed"
			if dryRun {
				verb = "would remove"
			}
			fmt.Fprintf(g.stdout, "%s %d blobs, %s\n", verb, res.Blobs, humanSize(res.Bytes))
			return nil
		},
	}
	cmd.Flags().StringVar(&prune, "prune", "1h", "keep unreachable blobs younger than this `DURATION` (or \"now\")")
	cmd.Flags().BoolVarP(&dryRun, "dry-run", "n", false, "only say what would be removed")
	return cmd
}

func parsePrune(s string) (time.Duration, error) {
	if s == "now" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, usagef("--prune %s: want a duration such as 1h, or now", s)
	}
	return d, nil
}
