//go:build !strata_front

package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/remote"
	"github.com/strata-sh/strata/repo"
)

// defaultPlan is what a push that names nothing sends.
type defaultPlan struct {
	specs       []pushSpec
	matching    bool // push.default matching: the specs are known once the remote answers (matchingPush)
	setUpstream bool // push.autoSetupRemote: the branch pushed has no upstream and gets the one it went to
}

// defaultPush is what a push that names nothing (no REF, --all or
// --tags) sends to the remote remoteName (a name, or a URL), as git's
// push.default mode says (setup_default_push_refspecs): nothing is
// refused; current sends the current branch to the remote branch of its
// name; upstream to its upstream, which must be on this remote; simple,
// to the branch's own remote, as upstream but only to a branch of its
// own name, and to another remote as current. A branch with no upstream
// pushed to its own remote (UpstreamRemote) is refused
// under simple and upstream, unless push.autoSetupRemote is true: then
// it goes to its own name, and, under every mode but matching, gets it
// as its upstream.
func defaultPush(r *repo.Repo, remoteName, mode string) (plan defaultPlan, err error) {
	switch mode {
	case repo.PushNothing:
		return plan, errors.New(`you didn't specify any refspecs to push, and push.default is "nothing": name a branch`)
	case repo.PushMatching:
		plan.matching = true
		return plan, nil
	}
	h, err := r.Refs.Current()
	if err != nil {
		return plan, err
	}
	if h.Branch == "" {
		// git's words, with the remote the push went to.
		return plan, fmt.Errorf("you are not currently on a branch: 'strata push %s HEAD:BRANCH' pushes the detached HEAD", remoteName)
	}
	if h.Commit == "" {
		return plan, errors.New("HEAD is not on a branch with commits: name what to push")
	}
	branch := refs.ShortName(h.Branch)
	auto, _, err := r.Config.Bool("push.autoSetupRemote")
	if err != nil {
		return plan, err
	}
	_, hasRemote := r.Config.Get("branch." + branch + ".remote")
	merge, hasMerge := r.Config.Get("branch." + branch + ".merge")
	// git's get_upstream_ref: with autoSetupRemote, a branch that merges
	// nothing goes to its own name.
	upstreamless := !hasRemote || !hasMerge
	autoOwnName := auto && !hasMerge
	noUpstream := fmt.Errorf("the current branch %s has no upstream branch: 'strata push --set-upstream %s %s' pushes it and makes it one (push.autoSetupRemote true: every push of a branch without one does)", branch, remoteName, branch)
	sameRemote := remoteName == r.UpstreamRemote(branch)
	spec := pushSpec{ref: h.Branch}
	switch mode {
	case repo.PushSimple:
		switch {
		case !sameRemote || autoOwnName:
		case upstreamless:
			return plan, noUpstream
		default:
			if err := r.SimplePushError(branch, remoteName); err != nil {
				return plan, err
			}
		}
	case repo.PushUpstream:
		switch {
		case !sameRemote:
			return plan, fmt.Errorf("you are pushing to remote '%s', which is not the upstream of your current branch '%s', without telling me what to push to update which remote branch", remoteName, branch)
		case autoOwnName:
		case upstreamless:
			return plan, noUpstream
		default:
			spec.to = strings.TrimPrefix(merge, refs.Heads)
		}
	}
	plan.setUpstream = auto && !hasMerge
	plan.specs = []pushSpec{spec}
	return plan, nil
}

// matchingPush is push.default matching: every local branch the remote
// has a tag of its name for, as git's ":" refspec.
func matchingPush(ctx context.Context, r *repo.Repo, s *remote.Session) ([]pushSpec, error) {
	tags, err := s.Tags(ctx)
	if err != nil {
		return nil, err
	}
	branches, err := r.Refs.List(refs.Heads)
	if err != nil {
		return nil, err
	}
	var out []pushSpec
	for _, b := range branches {
		if slices.ContainsFunc(tags, func(t remote.RemoteTag) bool { return t.Name == b.Short() }) {
			out = append(out, pushSpec{ref: b.Name})
		}
	}
	return out, nil
}
