package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/strata-sh/strata/repo"
)

func init() { register("rename", newRenameCommand) }

func newRenameCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "rename NAME NEW_NAME",
		Short: "Rename a detached run, running or not, as docker rename",
		Long: `Rename a detached run, running, paused or ended, as docker rename: every
command then knows it by NEW_NAME only, and NAME is free for another run.
A running run goes on as it was: the same processes, cgroup and
container id (inspect's "Id" stays what it was), log and tree.

NEW_NAME is 1 to 40 of [a-zA-Z0-9_.-], starting with a letter or digit,
as run --name wants (docker's [a-zA-Z0-9][a-zA-Z0-9_.-]+ wants 2 at
least, and has no limit), and no other run's.

Exit status: 0 on success, 1 on errors (no run is named NAME, or one is
named NEW_NAME), 2 on usage errors (an invalid NEW_NAME).`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			old, name := args[0], args[1]
			if old == "" || name == "" {
				return usagef("rename: neither old nor new names may be empty")
			}
			if err := checkRunName(name); err != nil {
				return usageError{err}
			}
			return forEachRun(cmd.Context(), g, args[:1], func(r *repo.Repo, s *svc) error {
				if name == s.st.Name {
					return fmt.Errorf("renaming a run with the same name as its current name")
				}
				return renameSvc(r, s, name)
			})
		},
	}
}
