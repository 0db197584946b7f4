package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/internal/pathquote"
)

func init() { register("umount", newUmountCommand) }

func newUmountCommand(g *globals) *cobra.Command {
	var path string
	var force bool
	cmd := &cobra.Command{
		Use:   "umount [--path DIR]",
		Short: "Unmount the work tree, keeping its changes",
		Long: `Unmount the work tree. Its uncommitted changes stay in its upper
directory, and the next command that needs the work tree mounts it again.
A work tree that is not mounted is said to be so, with exit status 0.

Exit status: 0 on success, 1 on errors, 2 on usage errors.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, w, err := openCheckedOut(g, path)
			if err != nil {
				return err
			}
			if !force {
				if err := w.RefuseWhileRunning(); err != nil {
					return fmt.Errorf("umount: %w", err)
				}
			}
			// umount(8) fails on what is not mounted; strata, like git's
			// idempotent cleanups, says so and exits 0: the state asked
			// for is reached, and scripts can umount unconditionally.
			was := w.Target() != "" && isMountPoint(w.Target())
			if err := w.Umount(); err != nil {
				return fmt.Errorf("umount: %w", err)
			}
			if !was {
				fmt.Fprintf(g.stdout, "%s is not mounted\n", pathquote.Quote(w.Target()))
				return nil
			}
			fmt.Fprintf(g.stdout, "Unmounted %s; uncommitted changes are kept\n", pathquote.Quote(w.Target()))
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "path", "", "the work tree at `DIR`")
	cmd.Flags().BoolVar(&force, "force", false, "unmount even while a container or process uses the work tree (detached lazily)")
	return cmd
}
