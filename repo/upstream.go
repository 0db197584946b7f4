package repo

import (
	"fmt"

	"github.com/strata-sh/strata/refs"
)

// UpstreamRemote is the remote pull takes branch from: config
// branch.<branch>.remote (clone sets it), else origin.
func (r *Repo) UpstreamRemote(branch string) string {
	if v, ok := r.Config.Get("branch." + branch + ".remote"); ok && v != "" {
		return v
	}
	return "origin"
}

// FetchRefspecs are remote name's fetch refspecs, remote.NAME.fetch (git's
// default for a remote without the key, or not configured at all).
func (r *Repo) FetchRefspecs(name string) ([]refs.Refspec, error) {
	return refs.FetchRefspecs(name, r.Config.GetAll("remote."+name+".fetch"))
}

// Upstream is where the upstream of branch (short name) is kept, as git
// finds it: the remote's branch it merges (strata's is the remote tag of
// its own name: git's branch.NAME.merge = refs/heads/NAME), mapped
// through its remote's fetch refspecs (refs.Tracking) to a
// remote-tracking ref. With push it is git's BRANCH@{push}: the remote
// tag a push of branch goes to, the same one on the same remote in
// strata, mapped the same way. Every command that names a branch's
// upstream (@{u}, @{push}, status, branch -vv, remote show, pull, push)
// takes it from here. The ref need not exist.
func (r *Repo) Upstream(branch string, push bool) (refs.Tracked, error) {
	t := refs.Tracked{Remote: r.UpstreamRemote(branch)}
	_, configured := r.Config.Get("remote." + t.Remote + ".url")
	t.NoRemote = !configured
	specs, err := r.FetchRefspecs(t.Remote)
	if err != nil {
		return t, err
	}
	t.Ref = refs.Tracking(specs, branch, true)
	switch {
	case t.Ref != "":
		return t, nil
	case push:
		return t, fmt.Errorf("push destination '%s%s' on remote '%s' has no local tracking branch (no remote.%s.fetch maps it)", refs.Heads, branch, t.Remote, t.Remote)
	}
	return t, fmt.Errorf("upstream branch '%s%s' not stored as a remote-tracking branch (no remote.%s.fetch maps it)", refs.Heads, branch, t.Remote)
}
