package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/worktree"
)

func init() { register("worktree", newWorktreeCommand) }

func newWorktreeCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "worktree (list | add PATH [REV] | remove [--force] PATH | prune [-n] | lock [--reason R] PATH | unlock PATH | move PATH NEWPATH | repair [PATH...])",
		Short: "Manage work trees: the main one and second ones elsewhere",
		Long: `A second work tree is a full work tree: every command run inside it acts
on it (its own HEAD, upper and state under .strata/worktrees/NAME).

  strata worktree list [--format json]       # [{"path","name","branch","head","mounted","missing","locked","lock_reason","detached"}]
  strata worktree add /srv/envs/env2 dev     # same as: checkout --path /srv/envs/env2 dev
  strata worktree add /srv/envs/env3         # new branch env3 at HEAD
  strata worktree add -b fix /srv/envs/env4 v1
  strata worktree add -B fix /srv/envs/env4 v2   # the same, or move fix to v2 if it exists
  strata worktree add --detach /srv/envs/env5
  strata worktree remove /srv/envs/env2      # unmount and delete (refuses with changes)
  strata worktree prune [-n]                 # forget work trees whose directory is gone
                                             # (keeping those with uncommitted changes),
                                             # and delete unused detached uppers
  strata worktree lock --reason 'on the usb disk' /srv/envs/env2
                                             # prune keeps it; remove refuses it unless -f -f
  strata worktree unlock /srv/envs/env2
  strata worktree add -q --lock --reason 'on the usb disk' /srv/envs/env6   # made locked
  strata worktree move /srv/envs/env2 /srv/old   # to /srv/old/env2: unmounted, renamed, mounted again
  strata worktree repair /srv/old/env9       # after a move by hand (mv, unmounted): the tree is there now

A branch is checked out in one work tree at a time. As git's, add without
REV, -b or --detach checks out the branch named after PATH's base name,
creating it at HEAD if it does not exist (add /srv/envs/env2: branch env2).

Exit status: 0 on success, 1 on errors, 2 on usage errors.`,
		Args: noSubcommand,
		RunE: func(cmd *cobra.Command, args []string) error {
			return usagef("worktree: give a subcommand: list, add, remove, prune, lock, unlock, move or repair")
		},
	}
	cmd.AddCommand(newWorktreeListCommand(g), newWorktreeAddCommand(g), newWorktreeRemoveCommand(g), newWorktreePruneCommand(g),
		newWorktreeLockCommand(g), newWorktreeUnlockCommand(g),
		newWorktreeMoveCommand(g), newWorktreeRepairCommand(g))
	return cmd
}

// newWorktreeRemoveCommand is worktree remove: a second work tree
// unmounted and deleted.
func newWorktreeRemoveCommand(g *globals) *cobra.Command {
	var rmForce int
	remove := &cobra.Command{
		Use:   "remove [--force [--force]] PATH",
		Short: "Unmount and delete a second work tree",
		Long: `Unmount and delete a second work tree: its upper, state and directory.
It refuses while the tree has uncommitted changes or a process or
container uses it, unless --force (-f); a locked one (worktree lock)
unless -f twice (-f -f), as git's.

Exit status: 0 on success, 1 on errors, 2 on usage errors.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			w, err := namedWorktree(g, args[0])
			if err != nil {
				return err
			}
			target := w.Target()
			if err := w.Remove(cmd.Context(), rmForce); err != nil {
				if !strings.HasPrefix(err.Error(), "worktree remove:") {
					err = fmt.Errorf("worktree remove: %w", err)
				}
				return err
			}
			if fi, err := os.Lstat(target); err == nil && fi.IsDir() {
				// add --force mounted it over files of its own.
				fmt.Fprintf(g.stdout, "Removed work tree %s; the directory is kept: it holds files of its own\n", pathquote.Quote(target))
				return nil
			}
			fmt.Fprintf(g.stdout, "Removed work tree %s\n", pathquote.Quote(target))
			return nil
		},
	}
	remove.Flags().CountVarP(&rmForce, "force", "f", "remove even with uncommitted changes or processes inside; twice: a locked one too")
	return remove
}

// newWorktreePruneCommand is worktree prune: the trees whose directory
// is gone forgotten, the detached uppers no process uses deleted.
func newWorktreePruneCommand(g *globals) *cobra.Command {
	var pruneDry bool
	prune := &cobra.Command{
		Use:   "prune [-n]",
		Short: "Forget work trees whose directory was deleted; delete detached uppers no process uses",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			names, kept, err := worktree.Prune(cmd.Context(), r, pruneDry)
			verb := "Removing"
			if pruneDry {
				verb = "Would remove"
			}
			for _, n := range names {
				fmt.Fprintf(g.stdout, "%s %s: directory is gone\n", verb, pathquote.Quote("worktrees/"+n))
			}
			for _, k := range kept {
				fmt.Fprintf(g.stdout, "Keeping %v\n", k)
			}
			if err != nil {
				return err
			}
			return pruneDetached(g, r, pruneDry)
		},
	}
	prune.Flags().BoolVarP(&pruneDry, "dry-run", "n", false, "only say what would be removed")
	return prune
}

// errEmptyPath refuses an empty PATH to add or remove: openWorktree
// takes "" for the work tree the command runs in.
var errEmptyPath = usagef("PATH is empty")

// detachedUsage sums up the uppers a work tree keeps for mounts that
// --force detached lazily while processes used them.
type detachedUsage struct {
	Count int   `json:"count"`
	Bytes int64 `json:"bytes"`
	InUse int   `json:"in_use"`
}

func detachedOf(w *worktree.Worktree) (*detachedUsage, error) {
	ds, err := w.DetachedUppers()
	if err != nil || len(ds) == 0 {
		return nil, err
	}
	u := &detachedUsage{Count: len(ds)}
	for _, d := range ds {
		u.Bytes += d.Bytes
		if d.InUse() {
			u.InUse++
		}
	}
	return u, nil
}

// pruneDetached deletes, in every work tree, the detached uppers that no
// process uses any more (worktree prune and gc), saying what went.
func pruneDetached(g *globals, r *repo.Repo, dryRun bool) error {
	all, err := worktree.List(r)
	if err != nil {
		return err
	}
	verb := "Removing"
	if dryRun {
		verb = "Would remove"
	}
	for _, w := range all {
		gone, err := w.PruneDetached(dryRun)
		for _, d := range gone {
			rel, rerr := filepath.Rel(r.Root, d.Dir)
			if rerr != nil {
				rel = d.Dir
			}
			fmt.Fprintf(g.stdout, "%s detached upper %s (%s): no process uses its mount\n", verb, rel, humanSize(d.Bytes))
		}
		if err != nil {
			return err
		}
	}
	return nil
}
