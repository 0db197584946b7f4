package repo

import (
	"fmt"
	"slices"
)

// branch.autoSetupMerge's modes, git's: whether a new branch (branch,
// switch -c, checkout -b) gets an upstream from its start point.
const (
	TrackFalse   = "false"   // never
	TrackTrue    = "true"    // from a remote-tracking branch (the default)
	TrackAlways  = "always"  // from a local branch too (remote ".")
	TrackInherit = "inherit" // the start branch's own upstream, copied
	TrackSimple  = "simple"  // as true, only to a remote branch of its own name
)

// namedModes are the modes that are no boolean, matched case and all.
var namedModes = []string{TrackAlways, TrackInherit, TrackSimple}

// checkAutoSetupMerge takes what git 2.39 takes: always, inherit and
// simple as written, else a boolean.
func checkAutoSetupMerge(v string) error {
	if slices.Contains(namedModes, v) {
		return nil
	}
	if _, err := ParseBool(v); err != nil {
		return fmt.Errorf("%q: want true, false, always, inherit or simple", v)
	}
	return nil
}

// AutoSetupMerge is branch.autoSetupMerge's mode: TrackTrue when it is
// unset; a boolean (a key with no value is true, as git reads it) is
// TrackTrue or TrackFalse. A value git refuses is an error naming the
// file and line, as git's "bad boolean config value".
func (r *Repo) AutoSetupMerge() (string, error) {
	const key = "branch.autoSetupMerge"
	if v, _ := r.Config.Get(key); slices.Contains(namedModes, v) {
		return v, nil
	}
	b, set, err := r.Config.Bool(key)
	switch {
	case !set:
		return TrackTrue, nil
	case err != nil:
		// The file and line, with what it takes.
		return "", r.Config.CheckValue(key, checkAutoSetupMerge)
	case b:
		return TrackTrue, nil
	}
	return TrackFalse, nil
}
