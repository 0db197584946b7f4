package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/worktree"
)

func newWorktreeMoveCommand(g *globals) *cobra.Command {
	var force int
	cmd := &cobra.Command{
		Use:   "move [--force [--force]] PATH NEWPATH",
		Short: "Move a second work tree to another directory",
		Long: `Move the second work tree at PATH to NEWPATH, or into NEWPATH when it is
a directory, as git's worktree move: the tree is unmounted, its
directory renamed (NEWPATH must be on the same file system) and mounted
again if it was. Killed at any point, the tree is at one place or the
other, never half moved: the next command finds it where its directory
is. It refuses while a container or process uses the tree unless
--force (-f), with which their mount stays with them, detached, as
checkout --force leaves it; a locked tree (worktree lock) unless -f
twice. The main work tree moves with its project.

Exit status: 0 on success, 1 on errors, 2 on usage errors.`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[1] == "" {
				return errEmptyPath
			}
			w, err := namedWorktree(g, args[0])
			if err != nil {
				return err
			}
			_, err = w.Move(cmd.Context(), args[1], force)
			return err
		},
	}
	cmd.Flags().CountVarP(&force, "force", "f", "move even while a container or process uses it; twice: a locked one too")
	return cmd
}

func newWorktreeRepairCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "repair [PATH...]",
		Short: "Find work trees moved by hand; point their markers at the project again",
		Long: `Set right what a move by hand broke, as git's worktree repair: each PATH
is a second work tree's directory moved with mv while unmounted (its
.strata-worktree marker names the tree): the project now has the tree
there. Then every second work tree not mounted now gets its marker
written again if it names another project directory (the project was
moved) or is gone, so that commands run inside it find the project.
A PATH is taken only if the directory its tree was at is gone, and it
is that same directory (device and inode) or its marker names this
project. Each repair prints one line.

Exit status: 0 on success, 1 on errors, 2 on usage errors.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			done, err := worktree.Repair(cmd.Context(), r, args)
			for _, d := range done {
				switch {
				case d.From != "":
					fmt.Fprintf(g.stdout, "repair: worktrees/%s: at %s, was %s\n", pathquote.Name(d.Name), pathquote.Quote(d.Target), pathquote.Quote(d.From))
				default:
					fmt.Fprintf(g.stdout, "repair: worktrees/%s: marker in %s names this project again\n", pathquote.Name(d.Name), pathquote.Quote(d.Target))
				}
			}
			return err
		},
	}
}
