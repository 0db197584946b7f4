package main

import (
	"errors"
	"fmt"
	"strings"

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

// setUpstream is git's branch -u/--set-upstream-to UPSTREAM [BRANCH]
// (HEAD's branch without one): UPSTREAM is a remote-tracking branch
// (origin/main, or its full name) that a remote's fetch refspecs map a
// remote branch to; branch.NAME.remote and branch.NAME.merge then name
// that remote and branch, as clone and push -u write them. A local
// branch (main, refs/heads/main; git's dwim takes it before a
// remote-tracking one) is git's local upstream: remote ".", the merge
// ref its own. A branch is not set as its own upstream: git warns and
// sets nothing.
func setUpstream(g *globals, r *repo.Repo, upstream string, args []string) error {
	if len(args) > 1 {
		return usagef("branch -u: too many arguments (takes UPSTREAM [BRANCH])")
	}
	var name string
	if len(args) == 1 {
		name = args[0]
		if !r.Refs.Exists(refs.Heads + name) {
			return fmt.Errorf("branch -u %s %s: no such branch", upstream, name)
		}
	} else {
		h, err := r.Refs.Current()
		if err != nil {
			return fmt.Errorf("branch -u %s: %w", upstream, err)
		}
		if h.Branch == "" || !r.Refs.Exists(h.Branch) {
			return fmt.Errorf("branch -u %s: HEAD is on no branch (detached, or unborn): name the branch", upstream)
		}
		name = refs.ShortName(h.Branch)
	}
	if local := localUpstream(r, upstream); local != "" {
		if local == refs.Heads+name {
			fmt.Fprintf(g.stderr, "strata: warning: branch -u %s: not setting branch '%s' as its own upstream\n", upstream, name)
			return nil
		}
		return writeUpstream(g, r, "branch -u "+upstream, name, repo.LocalRemote, local, refs.ShortName(local))
	}
	full := upstream
	if !strings.HasPrefix(full, "refs/") {
		full = refs.Remotes + upstream
	}
	if !strings.HasPrefix(full, refs.Remotes) || !r.Refs.Exists(full) {
		return fmt.Errorf("branch -u %s: the requested upstream branch '%s' does not exist ('strata fetch' makes it while the remote has the branch; 'strata push -u' pushes a new one)", upstream, upstream)
	}
	remoteName, tag, err := trackedBy(r, full)
	if err != nil {
		return fmt.Errorf("branch -u %s: %w", upstream, err)
	}
	return writeUpstream(g, r, "branch -u "+upstream, name, remoteName, refs.Heads+tag, refs.ShortName(full))
}

// localUpstream is the local branch UPSTREAM names (refs/heads/X, or X
// with such a branch), or "".
func localUpstream(r *repo.Repo, upstream string) string {
	full := upstream
	if !strings.HasPrefix(full, "refs/") {
		full = refs.Heads + upstream
	}
	if strings.HasPrefix(full, refs.Heads) && r.Refs.Exists(full) {
		return full
	}
	return ""
}

// writeUpstream sets branch NAME's remote and merge ref, and says so as
// git's, naming the upstream as tracked (origin/main, or main). what
// begins an error's words ("branch -u origin/main").
func writeUpstream(g *globals, r *repo.Repo, what, name, remoteName, merge, tracked string) error {
	for _, kv := range [][2]string{{"remote", remoteName}, {"merge", merge}} {
		if err := r.Config.Set("branch."+name+"."+kv[0], kv[1]); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	fmt.Fprintf(g.stdout, "branch '%s' set up to track '%s'.\n", name, tracked)
	return nil
}

// errNotTracked: full is no remote-tracking branch.
var errNotTracked = errors.New("no remote's fetch refspec")

// trackedBy is the remote whose fetch refspecs map a remote branch to
// the remote-tracking ref full, and that branch, as git's
// find_tracked_branch: none, or two remotes, is an error.
func trackedBy(r *repo.Repo, full string) (remoteName, tag string, err error) {
	// The remotes' names from the config, as completion reads them: this
	// file is in the front build, which leaves the remote package out.
	for _, rem := range r.Config.Subsections("remote") {
		specs, err := r.FetchRefspecs(rem)
		if err != nil {
			return "", "", err
		}
		for _, rs := range specs {
			t, ok := rs.Reverse(full)
			if !ok || rs.SrcTag || rs.Funny() || strings.Contains(t, "*") {
				continue
			}
			if remoteName != "" && remoteName != rem {
				return "", "", fmt.Errorf("ambiguous: the fetch refspecs of remotes %s and %s both map to %s", remoteName, rem, refs.ShortName(full))
			}
			if remoteName == "" {
				remoteName, tag = rem, t
			}
		}
	}
	if remoteName == "" {
		return "", "", fmt.Errorf("%w (remote.NAME.fetch) maps a remote branch to %s", errNotTracked, refs.ShortName(full))
	}
	return remoteName, tag, nil
}
