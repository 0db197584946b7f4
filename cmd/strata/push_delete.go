//go:build !strata_front

package main

import (
	"fmt"
	"slices"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/remote"
	"github.com/strata-sh/strata/repo"
)

// pushDelete is push --delete REMOTE NAME...: each remote tag goes, then
// its remote-tracking ref; a refused one does not stop the others.
func pushDelete(cmd *cobra.Command, g *globals, r *repo.Repo, rem remote.Remote, remoteArg string, names []string, o pushFlags) error {
	if len(names) == 0 {
		return usagef("push --delete: name the branches or tags to delete")
	}
	if o.all || o.tags {
		return usagef("push --delete: takes names, not --all or --tags")
	}
	s, _, err := connect(g, r, rem, o.transferFlags, "send")
	if err != nil {
		return fmt.Errorf("push %s: %w", remoteArg, err)
	}
	if !o.quiet {
		fmt.Fprintf(g.stderr, "To %s\n", s.Endpoint())
	}
	var failed error
	var have []remote.RemoteTag // what the remote has, for -n
	if o.dryRun {
		if have, err = s.Tags(cmd.Context()); err != nil {
			return fmt.Errorf("push --delete %s: %w", remoteArg, err)
		}
	}
	for _, n := range names {
		tag := refs.ShortName(n)
		if tag == "" {
			tag = n
		}
		if o.dryRun {
			// git's -n: what would go, and its refusal of a tag the
			// remote has not; nothing is deleted.
			if !slices.ContainsFunc(have, func(t remote.RemoteTag) bool { return t.Name == tag }) {
				failed = fmt.Errorf("push --delete %s %s: unable to delete '%s': remote ref does not exist", remoteArg, tag, tag)
			} else if !o.quiet {
				fmt.Fprintln(g.stderr, pushLine(" - [deleted]", tag))
			}
			continue
		}
		if _, err := s.Delete(cmd.Context(), r, tag); err != nil {
			fmt.Fprintf(g.stderr, "%s (delete refused)\n", pushLine(" ! [remote rejected]", tag))
			failed = fmt.Errorf("push --delete %s %s: %w", remoteArg, tag, err)
			continue
		}
		if !o.quiet {
			fmt.Fprintln(g.stderr, pushLine(" - [deleted]", tag))
		}
	}
	return failed
}
