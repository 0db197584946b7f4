package main

import (
	"context"
	"fmt"

	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/worktree"
)

// The config of a branch, git's [branch "NAME"] (remote, merge, and
// whatever else is set there), goes where the branch goes, as git's: -m
// moves it, -c copies it, -d drops it. Replacing a branch (-M, -C over
// an existing one) drops the replaced branch's config first, as -d
// would; git renames the section onto it and leaves both, and whichever
// comes last in the file wins.

// renameBranch is git's branch -m: the HEAD of every work tree that has
// the branch checked out follows it, and so do its reflog and config.
func renameBranch(ctx context.Context, r *repo.Repo, oldName, newName string, force bool) error {
	from, to := refs.Heads+oldName, refs.Heads+newName
	if err := refs.CheckName(to); err != nil {
		return usagef("branch -m: %w", err)
	}
	if !r.Refs.Exists(from) {
		return fmt.Errorf("branch -m %s: no such branch", oldName)
	}
	if from == to {
		// git's: nothing to do. -M went on to delete the branch as the
		// one it replaced, then found nothing to rename.
		return nil
	}
	if r.Refs.Exists(to) && !force {
		return fmt.Errorf("branch -m %s %s: %s already exists (use -f)", oldName, newName, newName)
	}
	if force && r.Refs.Exists(to) {
		if err := replaceBranch(r, "-m", oldName, newName, "branch: replaced by rename"); err != nil {
			return err
		}
	}
	// A second work tree's HEAD names the branch in its own state.
	err := worktree.RenameBranch(ctx, r, from, to, func() error {
		return r.Refs.Rename(from, to, "branch: renamed "+oldName+" to "+newName)
	})
	if err != nil {
		return fmt.Errorf("branch -m: %w", err)
	}
	if err := moveBranchConfig(r, oldName, newName, false); err != nil {
		return fmt.Errorf("branch -m %s %s: the branch is renamed, but its config is not: %w", oldName, newName, err)
	}
	head, err := r.Refs.ReadHead()
	if err == nil && head.Branch == from {
		return r.Refs.SetHeadBranch(to, "branch: renamed "+oldName+" to "+newName)
	}
	return nil
}

// copyBranch is git's branch -c: a new branch at the old one's commit,
// with a copy of its reflog and config (its upstream with it). HEAD
// stays where it is.
func copyBranch(r *repo.Repo, oldName, newName string, force bool) error {
	from, to := refs.Heads+oldName, refs.Heads+newName
	if err := refs.CheckName(to); err != nil {
		return usagef("branch -c: %w", err)
	}
	if !r.Refs.Exists(from) {
		return fmt.Errorf("branch -c %s: no such branch", oldName)
	}
	if from == to {
		return nil // git's: nothing to do
	}
	if r.Refs.Exists(to) {
		if !force {
			return fmt.Errorf("branch -c %s %s: %s already exists (use -f)", oldName, newName, newName)
		}
		if err := replaceBranch(r, "-c", oldName, newName, "branch: replaced by copy"); err != nil {
			return err
		}
	}
	if err := r.Refs.Copy(from, to, "branch: copied "+oldName+" to "+newName); err != nil {
		return fmt.Errorf("branch -c %s %s: %w", oldName, newName, err)
	}
	if err := moveBranchConfig(r, oldName, newName, true); err != nil {
		return fmt.Errorf("branch -c %s %s: the branch is copied, but its config is not: %w", oldName, newName, err)
	}
	return nil
}

// replaceBranch deletes branch newName, which -M or -C is about to
// replace with oldName, and its config; one a work tree has checked out
// is refused, since HEAD would move under its tree.
func replaceBranch(r *repo.Repo, verb, oldName, newName, msg string) error {
	to := refs.Heads + newName
	if err := notCheckedOutAnywhere(r, refs.Heads, to); err != nil {
		return fmt.Errorf("branch %s %s %s: replacing %s: %w", verb, oldName, newName, newName, err)
	}
	d, _ := r.Refs.Read(to)
	if err := r.Refs.Delete(to, d, msg); err != nil {
		return fmt.Errorf("branch %s %s %s: replacing %s: %w", verb, oldName, newName, newName, err)
	}
	if err := dropBranchConfig(r, newName); err != nil {
		return fmt.Errorf("branch %s %s %s: %s is deleted, but its config is not: %w", verb, oldName, newName, newName, err)
	}
	return nil
}

// moveBranchConfig renames [branch "OLD"] to [branch "NEW"] (with copy,
// copies it), if there is one. A [branch "NEW"] left by a branch of that
// name deleted before strata dropped its config goes first.
func moveBranchConfig(r *repo.Repo, oldName, newName string, copy bool) error {
	if oldName == newName || !r.Config.HasSubsection("branch", oldName) {
		return nil
	}
	if err := dropBranchConfig(r, newName); err != nil {
		return err
	}
	if copy {
		return r.Config.CopySubsection("branch", oldName, newName)
	}
	return r.Config.RenameSubsection("branch", oldName, newName)
}

// dropBranchConfig removes [branch "NAME"], as git's branch -d does.
func dropBranchConfig(r *repo.Repo, name string) error {
	if !r.Config.HasSubsection("branch", name) {
		return nil
	}
	return r.Config.RemoveSubsection("branch", name)
}

// moveOrCopy is branch -m/-M and -c/-C: [OLD] NEW, OLD the current
// branch when left out.
func moveOrCopy(ctx context.Context, r *repo.Repo, args []string, copy, force bool) error {
	flag, verb := "-m", "rename"
	if copy {
		flag, verb = "-c", "copy"
	}
	if len(args) == 1 {
		// git's branch -m NEW, -c NEW: the current branch.
		h, err := r.Refs.Current()
		if err != nil {
			return err
		}
		if h.Branch == "" {
			return fmt.Errorf("branch %s %s: HEAD is detached: name the branch to %s (%s OLD NEW)", flag, args[0], verb, flag)
		}
		args = []string{refs.ShortName(h.Branch), args[0]}
	}
	if len(args) != 2 {
		return usagef("branch %s: takes [OLD] NEW", flag)
	}
	if copy {
		return copyBranch(r, args[0], args[1], force)
	}
	return renameBranch(ctx, r, args[0], args[1], force)
}
