package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/worktree"
)

func newWorktreeLockCommand(g *globals) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "lock [--reason REASON] PATH",
		Short: "Lock a second work tree: prune keeps it, remove and move refuse it",
		Long: `Lock the second work tree at PATH, as git's worktree lock: prune keeps
it even when its directory is gone (on a disk not plugged in), and
remove and move refuse it unless given -f twice. 'worktree list' shows
it locked, with the reason (--format json: "locked", "lock_reason").
It fails if the tree is locked already; the main work tree is never
locked.

Exit status: 0 on success, 1 on errors, 2 on usage errors.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(reason) > worktree.MaxLockReason {
				return usagef("--reason takes at most %d bytes", worktree.MaxLockReason)
			}
			w, err := namedWorktree(g, args[0])
			if err != nil {
				return err
			}
			return w.Lock(cmd.Context(), reason)
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why it is locked (shown by list; at most 8192 bytes)")
	return cmd
}

func newWorktreeUnlockCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "unlock PATH",
		Short: "Unlock a work tree that worktree lock locked",
		Long: `Unlock the second work tree at PATH, which 'worktree lock' locked; it
fails if it is not locked.

Exit status: 0 on success, 1 on errors, 2 on usage errors.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			w, err := namedWorktree(g, args[0])
			if err != nil {
				return err
			}
			return w.Unlock(cmd.Context())
		},
	}
}

// namedWorktree is the work tree at path, which must be one.
func namedWorktree(g *globals, path string) (*worktree.Worktree, error) {
	if path == "" {
		return nil, errEmptyPath
	}
	_, w, err := openWorktree(g, path)
	if errors.Is(err, worktree.ErrBadTarget) {
		// Where no work tree could be made, none is: not "not a place
		// for one", the project itself or a path inside one.
		return nil, fmt.Errorf("%s: not a work tree", pathquote.Quote(path))
	}
	if err != nil {
		return nil, err
	}
	if _, ok, _ := w.State(); !ok {
		return nil, fmt.Errorf("%s: not a work tree", pathquote.Quote(path))
	}
	return w, nil
}
