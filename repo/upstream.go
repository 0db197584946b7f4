package repo

import (
	"fmt"
	"slices"
	"strings"

	"github.com/strata-sh/strata/refs"
)

// UpstreamRemote is the remote pull takes branch from: config
// branch.<branch>.remote (clone sets it), else DefaultRemote. Set to the
// empty string, it names a remote of that name, as git reads it: one
// with no URL and no branches (git's "no path specified").
func (r *Repo) UpstreamRemote(branch string) string {
	if v, ok := r.Config.Get("branch." + branch + ".remote"); ok {
		return v
	}
	return r.DefaultRemote()
}

// DefaultRemote is the remote of a branch that names none, or of a
// detached HEAD, as git's remote_for_branch: the one remote configured
// when there is exactly one, whatever its name, else origin.
func (r *Repo) DefaultRemote() string {
	names := r.Config.Subsections("remote")
	slices.Sort(names)
	if names = slices.Compact(names); len(names) == 1 {
		return names[0]
	}
	return "origin"
}

// FetchRefspecs are remote name's fetch refspecs, remote.NAME.fetch (git's
// default for a remote without the key, or not configured at all).
func (r *Repo) FetchRefspecs(name string) ([]refs.Refspec, error) {
	return refs.FetchRefspecs(name, r.Config.GetAll("remote."+name+".fetch"))
}

// UpstreamTag is the remote tag branch (short name) merges, as pull
// takes it: git's branch.NAME.merge (refs/heads/TAG as clone and push -u
// write it, or refs/tags/TAG: isTag), else the tag of the branch's own
// name.
func (r *Repo) UpstreamTag(branch string) (tag string, isTag bool, err error) {
	v, ok := r.Config.Get("branch." + branch + ".merge")
	if !ok || v == "" {
		return branch, false, nil
	}
	rs, err := refs.ParseRefspec(v)
	if err != nil || rs.Glob() || rs.Force || rs.Negative || strings.Contains(v, ":") {
		return "", false, fmt.Errorf("branch.%s.merge: '%s' names no remote branch (refs/heads/NAME)", branch, v)
	}
	return rs.Src, rs.SrcTag, nil
}

// Upstream is where the upstream of branch (short name) is kept, as git
// finds it: the remote's branch it merges (UpstreamTag: git's
// branch.NAME.merge, by default the remote tag of its own name), mapped
// through its remote's fetch refspecs (refs.Tracking) to a
// remote-tracking ref. With push it is git's BRANCH@{push}: the remote
// tag a push of branch goes to under push.default (pushDest), mapped
// the same way. Every command that names a branch's
// upstream (@{u}, @{push}, status, branch -vv, remote show, pull, push)
// takes it from here. The ref need not exist. As git's: a remote
// without branch.NAME.merge is no upstream, and a short merge value or a
// tag maps to none through a refs/heads/ refspec.
func (r *Repo) Upstream(branch string, push bool) (refs.Tracked, error) {
	if push {
		return r.pushDest(branch)
	}
	t := refs.Tracked{Remote: r.UpstreamRemote(branch)}
	if t.Remote == LocalRemote {
		return r.localUpstream(branch)
	}
	_, t.Set = r.Config.Get("branch." + branch + ".remote")
	if t.Remote == "" {
		// git's remote '' has no fetch refspecs: nothing maps.
		t.NoRemote = true
		return t, fmt.Errorf("upstream branch '%s' not stored as a remote-tracking branch (branch.%s.remote is set to '')", r.mergeName(branch), branch)
	}
	_, configured := r.Config.Get("remote." + t.Remote + ".url")
	t.NoRemote = !configured
	if !configured && isURL(t.Remote) {
		// push -u URL writes the URL, as git's: a remote with no
		// fetch refspecs, so nothing maps.
		return t, fmt.Errorf("upstream branch '%s' not stored as a remote-tracking branch (branch.%s.remote is the URL %s, which keeps none)", r.mergeName(branch), branch, t.Remote)
	}
	specs, err := r.FetchRefspecs(t.Remote)
	if err != nil {
		return t, err
	}
	merge, hasMerge := r.Config.Get("branch." + branch + ".merge")
	if t.Set && !hasMerge {
		// git: a remote alone is no upstream.
		return t, fmt.Errorf("no upstream configured for branch '%s' (branch.%s.remote is set, branch.%s.merge is not)", branch, branch, branch)
	}
	tag, isTag, err := r.UpstreamTag(branch)
	if err != nil {
		return t, err
	}
	if merge != "" && !strings.HasPrefix(merge, "refs/") {
		// git matches the full name against remote.NAME.fetch: a short
		// one is pulled, but maps to no remote-tracking branch.
		return t, fmt.Errorf("upstream branch '%s' not stored as a remote-tracking branch (branch.%s.merge names it short: write refs/heads/%s)", merge, branch, merge)
	}
	if isTag {
		// git's tags map only through a refspec of refs/tags/.
		specs = tagSpecs(specs)
	}
	if t.Ref = refs.Tracking(specs, tag, !isTag); t.Ref == "" {
		merge := refs.Heads + tag
		if isTag {
			merge = refs.Tags + tag
		}
		return t, fmt.Errorf("upstream branch '%s' not stored as a remote-tracking branch (no remote.%s.fetch maps it)", merge, t.Remote)
	}
	return t, nil
}

// SimplePushError is git's refusal of a push of the current branch with
// no REF to its own remote (push.default simple) when its upstream is a
// remote branch of another name: nil when the push may go.
func (r *Repo) SimplePushError(branch, remote string) error {
	name, set := r.Config.Get("branch." + branch + ".remote")
	merge, merges := r.Config.Get("branch." + branch + ".merge")
	if !set || !merges || name != remote || merge == refs.Heads+branch {
		return nil
	}
	return fmt.Errorf("the upstream branch of your current branch does not match the name of your current branch: 'strata push %s HEAD:%s' pushes to the upstream branch, 'strata push %s HEAD' to the branch of the same name", remote, strings.TrimPrefix(merge, refs.Heads), remote)
}

// tagSpecs are those of specs whose SRC is written refs/tags/..., the
// ones that map git's tags.
func tagSpecs(specs []refs.Refspec) []refs.Refspec {
	var out []refs.Refspec
	for _, rs := range specs {
		if rs.SrcTag {
			out = append(out, rs)
		}
	}
	return out
}

// LocalRemote is git's branch.NAME.remote for a branch whose upstream is
// another branch of this repository (git branch --track, checkout -b X
// --track B).
const LocalRemote = "."

// localUpstream is Upstream of a branch whose remote is LocalRemote, as
// git finds it: the branch branch.NAME.merge names itself.
func (r *Repo) localUpstream(branch string) (refs.Tracked, error) {
	t := refs.Tracked{Remote: LocalRemote}
	tag, isTag, err := r.UpstreamTag(branch)
	if err != nil {
		return t, err
	}
	t.Ref = refs.Heads + tag
	if isTag {
		t.Ref = refs.Tags + tag
	}
	return t, nil
}

// mergeName is branch.NAME.merge as git names the upstream's remote
// branch in messages: refs/heads/NAME, by default the branch's own.
func (r *Repo) mergeName(branch string) string {
	if v, ok := r.Config.Get("branch." + branch + ".merge"); ok && v != "" {
		return v
	}
	return refs.Heads + branch
}

// isURL reports whether a branch's remote is a URL, not a remote's name:
// it could not be one ('/', or no ref refs/remotes/NAME/x).
func isURL(remote string) bool {
	return strings.Contains(remote, "/") || refs.CheckName(refs.Remotes+remote+"/x") != nil
}
