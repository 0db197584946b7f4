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

// defaultPush is what a push that names nothing (no REF, --all or
// --tags) sends to the remote remoteName, as git's push.default mode
// says: nothing is refused; current sends the current branch to the
// remote branch of its name; upstream to its upstream, which must be on
// this remote; simple as upstream, but only to a branch of its own name
// (simplePush; a branch with no upstream goes to its own name). ok is
// false for matching, whose branches are known once the remote answers
// (matchingPush).
func defaultPush(r *repo.Repo, remoteName, mode string) (specs []pushSpec, ok bool, err error) {
	switch mode {
	case repo.PushNothing:
		return nil, true, errors.New(`you didn't specify any refspecs to push, and push.default is "nothing": name a branch`)
	case repo.PushMatching:
		return nil, false, nil
	}
	h, err := r.Refs.Current()
	if err != nil {
		return nil, true, err
	}
	if h.Branch == "" {
		// git's words, with the remote the push went to.
		return nil, true, fmt.Errorf("you are not currently on a branch: 'strata push %s HEAD:BRANCH' pushes the detached HEAD", remoteName)
	}
	if h.Commit == "" {
		return nil, true, errors.New("HEAD is not on a branch with commits: name what to push")
	}
	branch := refs.ShortName(h.Branch)
	switch mode {
	case repo.PushSimple:
		if err := r.SimplePushError(branch, remoteName); err != nil {
			return nil, true, err
		}
	case repo.PushUpstream:
		from, set := r.Config.Get("branch." + branch + ".remote")
		merge, merges := r.Config.Get("branch." + branch + ".merge")
		switch {
		case !set || !merges:
			return nil, true, fmt.Errorf("the current branch %s has no upstream branch: 'strata push --set-upstream %s %s' pushes it and makes it one", branch, remoteName, branch)
		case from != remoteName:
			return nil, true, fmt.Errorf("you are pushing to remote '%s', which is not the upstream of your current branch '%s', without telling me what to push to update which remote branch", remoteName, branch)
		}
		return []pushSpec{{ref: h.Branch, to: strings.TrimPrefix(merge, refs.Heads)}}, true, nil
	}
	return []pushSpec{{ref: h.Branch}}, true, nil
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
