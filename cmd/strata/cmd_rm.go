package main

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/spf13/cobra"

	"github.com/strata-sh/strata/repo"
)

func newRmCommand(g *globals) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "rm [-f] NAME...",
		Short: "Remove ended detached runs: state, logs and throwaway tree",
		Long: `Remove ended detached runs: state, logs and throwaway tree. -f stops
a running one first (SIGKILL), and, as docker's rm -f (and rm -f), only
warns of a name no run has. A cp to or from an ended run, or a commit
--from it, that has its tree mounted is waited for (Ctrl-C stops the
wait).`,
		Args: minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			finishRemovals(r)
			if force {
				var known []string
				for _, n := range args {
					if _, err := loadSvc(r, n); errors.Is(err, errNoRun) {
						fmt.Fprintf(g.stderr, "strata: warning: rm: %v\n", err)
						continue
					}
					known = append(known, n)
				}
				args = known
			}
			return forEachRun(cmd.Context(), g, args, func(r *repo.Repo, s *svc) error {
				if s.live() {
					if !force && s.paused() {
						return fmt.Errorf("%s is paused; unpause and stop it first, or use rm -f", s.st.Name)
					}
					if !force && s.restarting() { // as docker's
						return fmt.Errorf("%s is restarting; stop it first or use rm -f", s.st.Name)
					}
					if !force {
						return fmt.Errorf("%s is running; stop it first or use rm -f", s.st.Name)
					}
					if err := stopSvc(cmd.Context(), s, 0, 0); err != nil && cmd.Context().Err() != nil {
						return fmt.Errorf("%s: %w", s.st.Name, err)
					}
				}
				// A cp or commit --from of the ended run has its tree
				// mounted until it is done: wait for it, rather than
				// remove the tree under the copy.
				unlockTree, err := s.lockTree(cmd.Context(), treeWaitNotice(g, "rm", s.st.Name))
				if errors.Is(err, fs.ErrNotExist) {
					return fmt.Errorf("%w %q", errNoRun, s.st.Name) // removed meanwhile
				} else if err != nil {
					return fmt.Errorf("%s: %w", s.st.Name, err)
				}
				defer unlockTree()
				if s.live() {
					return fmt.Errorf("%s is running again; stop it first or use rm -f", s.st.Name)
				}
				svcTestHook("rm-tree-locked")
				if err := removeSvc(r, s); err != nil {
					return fmt.Errorf("%s: %w", s.st.Name, err)
				}
				fmt.Fprintln(g.stdout, s.st.Name)
				return nil
			})
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "stop a running one first (SIGKILL)")
	return cmd
}
