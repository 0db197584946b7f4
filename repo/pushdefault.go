package repo

import (
	"fmt"
	"slices"
)

// Push.default's modes, git's: what a push that names nothing sends.
const (
	PushNothing  = "nothing"  // nothing: refused
	PushCurrent  = "current"  // the current branch to the remote branch of its name
	PushUpstream = "upstream" // the current branch to its upstream ("tracking", its old name)
	PushSimple   = "simple"   // upstream, but only to a branch of its own name (the default)
	PushMatching = "matching" // every branch the remote has a branch of its name for
)

// checkPushDefault takes a push.default git 2.39 knows, case and all.
func checkPushDefault(v string) error {
	if !slices.Contains([]string{PushNothing, PushMatching, PushSimple, PushUpstream, "tracking", PushCurrent}, v) {
		return fmt.Errorf("malformed value for push.default: %s: must be one of nothing, matching, simple, upstream or current", v)
	}
	return nil
}

// PushDefault is push.default's mode (Open refused a value git does not
// know): simple when it is unset, upstream for git's old "tracking".
func (r *Repo) PushDefault() string {
	v, set := r.Config.Get("push.default")
	switch {
	case !set || checkPushDefault(v) != nil:
		return PushSimple
	case v == "tracking":
		return PushUpstream
	}
	return v
}
