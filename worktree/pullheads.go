package worktree

import (
	"context"
	"errors"
	"fmt"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// Errors of a pull of several remote branches (pull REMOTE A B), git's.
var (
	ErrRebaseMany = errors.New("cannot rebase onto multiple branches")
	ErrFFMany     = errors.New("cannot fast-forward to multiple branches")
)

// UpToDateWith reports whether the branch has every one of ids (each
// is the branch's commit or an ancestor of it).
func (u *BranchUpdate) UpToDateWith(ids []digest.Digest) (bool, error) {
	old, _ := u.r.Refs.Read(refs.Heads + u.branch)
	if old == "" {
		return false, nil
	}
	for _, id := range ids {
		in, err := repo.IsAncestor(u.r.Objects, id, old)
		if err != nil || !in {
			return false, err
		}
	}
	return true, nil
}

// MergeFetched merges the commits FETCH_HEAD names for merge into the
// branch, as git's pull of several branches runs merge FETCH_HEAD: with
// the heads reduced, git's octopus of two that hold the branch, and a
// merge needing more than two parents refused (octopus.go). The branch
// must be checked out in the work tree pull runs in.
func (u *BranchUpdate) MergeFetched(ctx context.Context, allowUnrelated bool) (*Outcome, error) {
	if u.w == nil {
		return nil, fmt.Errorf("branch %s is not checked out here: check it out, then pull --merge", u.branch)
	}
	return u.w.Merge(ctx, MergeOptions{Rev: refs.FetchHead, AllowUnrelated: allowUnrelated})
}
