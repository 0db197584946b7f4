package repo

import (
	"errors"
	"fmt"

	"github.com/strata-sh/strata/refs"
)

// pushDest is BRANCH@{push}, the remote-tracking ref of where a push of
// branch with no REF goes, as git's branch_get_push resolves it under
// each push.default mode; the remote is where a push of it goes
// (PushRemote: branch.NAME.pushRemote, remote.pushDefault, then the
// branch's own remote):
//   - nothing: none, git's "push has no destination";
//   - current, matching: the remote branch of its own name;
//   - upstream: its upstream, whatever PushRemote says (a branch with
//     none: git's "no upstream configured", as push refuses it);
//   - simple: the remote branch of its own name when that is its
//     upstream, else git's "cannot resolve 'simple' push to a single
//     destination" (so always when PushRemote is another remote than
//     its upstream's), and git's "no upstream configured" for a
//     branch with none.
//
// A branch whose remote is "." (a local upstream) is pushed nowhere
// but under upstream, where it is that branch.
func (r *Repo) pushDest(branch string) (refs.Tracked, error) {
	mode := r.PushDefault()
	switch mode {
	case PushNothing:
		return refs.Tracked{Remote: r.PushRemote(branch)}, errors.New("push has no destination (push.default is 'nothing')")
	case PushUpstream:
		if !r.hasUpstream(branch) {
			return refs.Tracked{Remote: r.UpstreamRemote(branch)}, fmt.Errorf("no upstream configured for branch '%s' (push.default is 'upstream')", branch)
		}
		return r.Upstream(branch, false)
	}
	if mode == PushSimple && !r.hasUpstream(branch) {
		// git's branch_get_upstream, first; push refuses it too.
		return refs.Tracked{Remote: r.PushRemote(branch)}, fmt.Errorf("no upstream configured for branch '%s'", branch)
	}
	t, err := r.ownName(branch)
	if err != nil || mode != PushSimple {
		return t, err
	}
	// It is the upstream, which is gone, as git says, when its
	// remote-tracking branch is missing.
	_, t.Set = r.Config.Get("branch." + branch + ".remote")
	return t, r.simplePush(branch, t.Ref)
}

// ownName is the remote-tracking ref of the branch of branch's own name
// on the remote a push of it goes to, git's tracking_for_push_dest.
func (r *Repo) ownName(branch string) (refs.Tracked, error) {
	t := refs.Tracked{Remote: r.PushRemote(branch)}
	if t.Remote == LocalRemote || t.Remote == "" {
		return t, fmt.Errorf("push destination '%s%s' on remote '%s' has no local tracking branch", refs.Heads, branch, t.Remote)
	}
	if _, configured := r.Config.Get("remote." + t.Remote + ".url"); !configured {
		// git: a remote it does not know maps nothing.
		return t, fmt.Errorf("push destination '%s%s' on remote '%s' has no local tracking branch (no remote %s is configured)", refs.Heads, branch, t.Remote, t.Remote)
	}
	specs, err := r.FetchRefspecs(t.Remote)
	if err != nil {
		return t, err
	}
	if t.Ref = refs.Tracking(specs, branch, true); t.Ref == "" {
		return t, fmt.Errorf("push destination '%s%s' on remote '%s' has no local tracking branch (no remote.%s.fetch maps it)", refs.Heads, branch, t.Remote, t.Remote)
	}
	return t, nil
}

// simplePush checks BRANCH@{push}, to, as git's push.default simple
// resolves it for a branch whose remote is set: a push goes to the
// branch of its own name only when that is its upstream ("cannot
// resolve 'simple' push to a single destination" when it merges another
// branch, push -u origin main:other; git's errors when it is gone).
func (r *Repo) simplePush(branch, to string) error {
	up, err := r.Upstream(branch, false)
	if err != nil {
		return err
	}
	if up.Ref != to {
		return fmt.Errorf("cannot resolve 'simple' push to a single destination: the branch's upstream is %s, a push of it goes to %s", refs.ShortName(up.Ref), refs.ShortName(to))
	}
	return nil
}

// hasUpstream says whether branch names an upstream: both
// branch.NAME.remote and branch.NAME.merge set.
func (r *Repo) hasUpstream(branch string) bool {
	_, set := r.Config.Get("branch." + branch + ".remote")
	_, merges := r.Config.Get("branch." + branch + ".merge")
	return set && merges
}
