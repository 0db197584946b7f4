package main

import (
	"fmt"

	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// unsetUpstream is git's branch --unset-upstream [BRANCH] (HEAD's branch
// without one): it removes branch.NAME.remote and branch.NAME.merge, so
// that status, branch -vv and @{u} name no upstream for it. A branch
// without either is refused, as git's "has no upstream information".
func unsetUpstream(r *repo.Repo, args []string) error {
	if len(args) > 1 {
		return usagef("branch --unset-upstream: too many arguments (takes [BRANCH])")
	}
	var name string
	if len(args) == 1 {
		name = args[0]
	} else {
		h, err := r.Refs.Current()
		if err != nil {
			return fmt.Errorf("branch --unset-upstream: %w", err)
		}
		if h.Branch == "" {
			return fmt.Errorf("branch --unset-upstream: HEAD is detached, on no branch: name the branch")
		}
		name = refs.ShortName(h.Branch)
	}
	removed := false
	for _, key := range []string{"branch." + name + ".remote", "branch." + name + ".merge"} {
		if _, ok := r.Config.Get(key); !ok {
			continue
		}
		if err := r.Config.Unset(key, true); err != nil {
			return fmt.Errorf("branch --unset-upstream %s: %w", name, err)
		}
		removed = true
	}
	if !removed {
		return fmt.Errorf("branch --unset-upstream %s: the branch has no upstream information (branch.%s.remote, branch.%s.merge)", name, name, name)
	}
	return nil
}
