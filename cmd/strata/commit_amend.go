package main

import (
	"context"
	"errors"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/image/change"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/worktree"
)

// Errors of commit --amend.
var (
	errAmendMerge = errors.New("HEAD is a merge: reset --soft HEAD~1 and commit, then merge again")
	errAmendRoot  = errors.New("HEAD is a root commit: there is no parent to put the new commit on")
)

// amend is commit --amend: a reset --soft to HEAD's parent, which keeps
// every file and the config as they are, then a commit with HEAD's
// message and author unless co gives them. If that commit fails, HEAD
// is put back.
func amend(ctx context.Context, w *worktree.Worktree, co worktree.CommitOptions, changes []string) (*objects.Commit, int, error) {
	head, err := w.Resolve("HEAD")
	if err != nil {
		return nil, 0, err
	}
	if head.MergeParent() != "" {
		return nil, 0, errAmendMerge
	}
	parent, err := w.Repo.Objects.Parent(head.ID)
	if err != nil {
		return nil, 0, err
	}
	if parent == "" {
		return nil, 0, errAmendRoot
	}
	if co.Message == "" {
		co.Message = head.Message()
	}
	if co.Author == "" {
		co.Author = head.Author()
	}
	// The reset below stages HEAD's config (or the one staged already):
	// the commit starts from it.
	co.Config = func(c *ocispec.ImageConfig) error { return change.Apply(c, changes) }
	co.AllowEmpty = true // a new message alone is an amend
	// Unforced: the reset remounts the tree on the parent, and a process
	// or container in it would keep the old mount, its later writes out
	// of the tree (kept in worktree/detached). Refused, under the lock.
	if _, err := w.ResetWith(ctx, worktree.ResetOptions{Rev: parent.String(), Mode: worktree.ResetSoft}); err != nil {
		if errors.Is(err, worktree.ErrInUse) || errors.Is(err, worktree.ErrRunning) {
			return nil, 0, fmt.Errorf("commit --amend: %w", errors.Unwrap(err)) // not "reset: ..."
		}
		return nil, 0, err
	}
	c, n, err := w.Commit(ctx, co)
	if c == nil {
		if _, rerr := w.Reset(ctx, head.ID.String(), worktree.ResetSoft); rerr != nil {
			return nil, 0, fmt.Errorf("%w; and HEAD could not be put back on %s: %v", err, shortID(head.ID), rerr)
		}
	}
	return c, n, err
}
