package worktree

import (
	"context"
	"fmt"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// Pull modes when the branch and the remote have diverged.
const (
	PullRebase = "rebase"
	PullMerge  = "merge"
)

// Diverged reports whether the branch has commits that to lacks and to
// has commits the branch lacks (a fast-forward will not do).
func (u *BranchUpdate) Diverged(to digest.Digest) (bool, error) {
	old, _ := u.r.Refs.Read(refs.Heads + u.branch)
	if old == "" || old == to {
		return false, nil
	}
	ff, err := repo.IsAncestor(u.r.Objects, old, to)
	if err != nil || ff {
		return false, err
	}
	behind, err := repo.IsAncestor(u.r.Objects, to, old)
	return !behind, err
}

// Integrate brings the fetched commit to into a branch that diverged
// from it, as pull --rebase (the branch's own commits replayed onto to)
// or pull --merge (a merge commit) does. name says what to is
// ("origin/main"); allowUnrelated lets a merge join histories with no
// commit in common. The branch must be checked out in the main work tree.
func (u *BranchUpdate) Integrate(ctx context.Context, to digest.Digest, mode, name string, allowUnrelated bool) (*Outcome, error) {
	if u.w == nil {
		return nil, fmt.Errorf("branch %s and %s have diverged and %s is not checked out here: check it out, then pull --%s", u.branch, name, u.branch, mode)
	}
	if mode == PullRebase {
		return u.w.Rebase(ctx, RebaseOptions{Upstream: to.String(), Name: name})
	}
	return u.w.Merge(ctx, MergeOptions{Rev: to.String(), Name: name, AllowUnrelated: allowUnrelated})
}
