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

// IntegrateOptions says how Integrate brings a fetched commit in.
type IntegrateOptions struct {
	Mode string // PullRebase or PullMerge
	// Name is what the fetched commit is, in messages: the
	// remote-tracking branch it came through ("origin/main").
	Name string
	// Fetched is what was fetched as git's pull names it in a merge
	// commit's message, "branch 'main' of URL": the merge is then "Merge
	// branch 'main' of URL" (" into BRANCH" but for main and master).
	// "": git's merge message of Name.
	Fetched string
	// Tracking is the remote-tracking ref the commit came through (its
	// reflog says where the remote was before): when the remote's
	// history was rewritten (push --force), a rebase replays only the
	// commits made on top of what the branch last took from it, as git's
	// pull --rebase does with its fork point, not the commits the remote
	// dropped.
	Tracking string
	// AllowUnrelated lets a merge join histories with no commit in
	// common.
	AllowUnrelated bool
	// NoFF makes a merge commit even when a fast-forward would do
	// (git's pull --no-ff).
	NoFF bool
}

// Integrate brings the fetched commit to into a branch that diverged
// from it (or, with o.NoFF, one it is ahead of), as pull --rebase (the
// branch's own commits replayed onto to) or pull --merge (a merge
// commit) does. The branch must be checked out
// in the main work tree.
func (u *BranchUpdate) Integrate(ctx context.Context, to digest.Digest, o IntegrateOptions) (*Outcome, error) {
	mode, name, tracking := o.Mode, o.Name, o.Tracking
	if u.w == nil {
		return nil, fmt.Errorf("branch %s and %s have diverged and %s is not checked out here: check it out, then pull --%s", u.branch, name, u.branch, mode)
	}
	if mode == PullRebase {
		ro := RebaseOptions{Upstream: to.String(), Name: name}
		fork, err := u.forkPoint(tracking, to)
		if err != nil {
			return nil, err
		}
		if fork != "" {
			ro.Upstream, ro.Onto = fork.String(), to.String()
		}
		return u.w.Rebase(ctx, ro)
	}
	msg := ""
	if o.Fetched != "" {
		msg = "Merge " + o.Fetched + mergeInto(refs.Heads+u.branch)
	}
	return u.w.Merge(ctx, MergeOptions{Rev: to.String(), Name: name, Message: msg, AllowUnrelated: o.AllowUnrelated, NoFF: o.NoFF})
}

// forkPoint is the newest commit of tracking's reflog that the branch
// descends from, when to does not descend from it: the remote dropped
// it (and what lies between it and to's history). "" when the remote
// only grew, when tracking has no reflog, or when no entry is under
// the branch: the rebase then takes what to lacks, as without a reflog.
func (u *BranchUpdate) forkPoint(tracking string, to digest.Digest) (digest.Digest, error) {
	if tracking == "" {
		return "", nil
	}
	head, err := u.r.Refs.Read(refs.Heads + u.branch)
	if err != nil {
		return "", err
	}
	entries, err := u.r.Refs.Log(tracking)
	if err != nil {
		return "", err
	}
	seen := map[digest.Digest]bool{to: true}
	for _, e := range entries {
		for _, c := range []digest.Digest{e.New, e.Old} {
			if c == "" || seen[c] || !u.r.Objects.Has(c) {
				continue
			}
			seen[c] = true
			under, err := repo.IsAncestor(u.r.Objects, c, head)
			if err != nil || !under {
				if err != nil {
					return "", err
				}
				continue
			}
			kept, err := repo.IsAncestor(u.r.Objects, c, to)
			if err != nil || kept {
				return "", err
			}
			return c, nil
		}
	}
	return "", nil
}
