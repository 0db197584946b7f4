//go:build !strata_front

package main

import (
	"fmt"

	"github.com/strata-sh/strata/repo"
)

// git's pull --ff, --no-ff and --ff-only: one choice, of which the last
// given wins, else config pull.ff.
const (
	pullFF     = "ff"    // fast-forward when possible, else merge
	pullNoFF   = "no-ff" // a merge commit even when a fast-forward would do
	pullFFOnly = "only"  // a fast-forward or nothing
)

// ffChoice is one of --ff, --no-ff and --ff-only: setting it sets the
// shared choice to its value.
type ffChoice struct {
	choice *string
	value  string
}

func (f ffChoice) Set(v string) error {
	if v != "true" {
		return fmt.Errorf("takes no value")
	}
	*f.choice = f.value
	return nil
}
func (f ffChoice) String() string   { return "false" }
func (f ffChoice) Type() string     { return "bool" }
func (f ffChoice) IsBoolFlag() bool { return true }

// pullFFMode is the choice pull goes by: the flag given last, else
// pull.ff (only, or a boolean: true --ff, false --no-ff), as git's. An
// explicit --rebase or --merge (integrate) overrides pull.ff = only, as
// git's: the config's --ff-only becomes --ff.
func pullFFMode(r *repo.Repo, flag string, integrate bool) (string, error) {
	if flag != "" {
		return flag, nil
	}
	v, set := r.Config.Get("pull.ff")
	switch {
	case !set:
		return "", nil
	case v == "only" && integrate:
		return pullFF, nil
	case v == "only":
		return pullFFOnly, nil
	}
	b, err := repo.ParseBool(v)
	if err != nil {
		return "", fmt.Errorf("invalid value for 'pull.ff': '%s' (true, false or only)", v)
	}
	if b {
		return pullFF, nil
	}
	return pullNoFF, nil
}

// pullRebases says whether a rebase was asked for: --rebase, else
// pull.rebase true unless --merge, as git's opt_rebase. --ff-only still
// wins over it; what it changes then is that uncommitted changes are
// refused before the fetch, as git's "cannot pull with rebase".
func pullRebases(r *repo.Repo, rebase, merge bool) (bool, error) {
	if rebase || merge {
		return rebase, nil
	}
	v, _, err := r.Config.Bool("pull.rebase")
	return v, err
}
