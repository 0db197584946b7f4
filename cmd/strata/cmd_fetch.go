//go:build !strata_front

package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/remote"
)

func init() { register("fetch", newFetchCommand) }

func newFetchCommand(g *globals) *cobra.Command {
	var o transferFlags
	var prune, all bool
	cmd := &cobra.Command{
		Use:   "fetch [REMOTE [TAG...]] | --all",
		Short: "Receive a remote's tags, with their history",
		Long: `Fetch TAGs (default: every tag) of REMOTE (default: the current
branch's remote, branch.NAME.remote, else origin) and record each under
refs/remotes/REMOTE/TAG. History is followed through each
commit's parent (dev.strata.parent) down to a commit already here; where
the registry no longer has an ancestor, the history stops there and the
commit is marked shallow. An image with no strata history arrives as a
root commit. Every blob is verified before it is stored, and read no
further than the size its manifest declares; local branches do not move
(see pull). A tag whose name cannot be a ref (a..b, HEAD, x.lock), or
whose image cannot be a commit (a signature, a config that is not JSON,
lacks a layer's diff id or gives one that is not a sha256 digest), is skipped with a warning on stderr, even
with -q; a TAG named on the command line that cannot be fetched (no such
tag, or one of those) fails the fetch. Registries off loopback are spoken to
over https only, unless --insecure or remote.REMOTE.insecure = true.
--prune deletes the refs/remotes/REMOTE/* whose tags the remote no longer
has (see push --delete). --all fetches every remote, in turn, as git's.

Exit status: 0 on success, 1 on errors, 2 on usage errors.`,
		Args: rangeArgs(0, 100),
		RunE: func(cmd *cobra.Command, args []string) error {
			if all {
				if len(args) > 0 {
					return usagef("fetch: --all fetches every remote: it takes no REMOTE or TAG")
				}
				r, err := g.openRepo()
				if err != nil {
					return err
				}
				for _, rem := range remote.List(r.Config) {
					if !o.quiet {
						fmt.Fprintf(g.stdout, "Fetching %s\n", rem.Name)
					}
					if err := fetchOne(cmd, g, o, prune, []string{rem.Name}); err != nil {
						return err
					}
				}
				return nil
			}
			return fetchOne(cmd, g, o, prune, args)
		},
	}
	o.add(cmd)
	cmd.Flags().BoolVarP(&prune, "prune", "p", false, "delete remote-tracking branches whose tags are gone from the remote")
	cmd.Flags().BoolVar(&all, "all", false, "fetch every remote")
	return cmd
}

// fetchOne is fetch [REMOTE [TAG...]].
func fetchOne(cmd *cobra.Command, g *globals, o transferFlags, prune bool, args []string) error {
	r, rem, remoteArg, args, err := openRemote(g, "fetch", args)
	if err != nil {
		return err
	}
	s, p, err := connect(g, r, rem, o, "receive")
	if err != nil {
		return fmt.Errorf("fetch %s: %w", remoteArg, err)
	}
	res, err := s.Fetch(cmd.Context(), r, args)
	p.finish()
	if err != nil {
		return fmt.Errorf("fetch %s: %w", remoteArg, err)
	}
	warnSkipped(g, "fetch", remoteArg, res)
	if prune {
		pruned, err := s.Prune(cmd.Context(), r)
		if err != nil {
			return fmt.Errorf("fetch %s: prune: %w", remoteArg, err)
		}
		res.Tags = append(res.Tags, pruned...)
	}
	printFetch(g, s, res, o.quiet, false)
	return nil
}

// printFetch tells what a fetch moved and received, under "From URL";
// as git's fetch, one that changed nothing prints nothing, unless from
// (pull, whose own line follows).
func printFetch(g *globals, s *remote.Session, res remote.FetchResult, quiet, from bool) {
	if quiet {
		return
	}
	line := func(format string, a ...any) {
		if !from {
			fmt.Fprintf(g.stdout, "From %s\n", s.Endpoint())
			from = true
		}
		fmt.Fprintf(g.stdout, format, a...)
	}
	if from {
		fmt.Fprintf(g.stdout, "From %s\n", s.Endpoint())
	}
	for _, u := range res.Tags {
		if u.Invalid {
			continue // warned on stderr
		}
		dest := refs.ShortName(u.Ref)
		if dest == "" {
			dest = "FETCH (" + shortID(u.New) + ")"
		}
		if u.Skipped != "" {
			continue // warned on stderr
		}
		if u.Old == u.New {
			continue
		}
		if u.New == "" {
			line(" - [deleted] (none) -> %s\n", dest)
			continue
		}
		kind := "branch" // refs/remotes/<remote>/<tag> track the remote's branches
		if strings.HasPrefix(u.Ref, refs.Tags) || u.Ref == "" {
			kind = "tag"
		}
		forced := ""
		if u.Forced {
			forced = "  (forced update)"
		}
		line("%s %s -> %s%s\n", refChange(u.Old, u.New, u.Forced, kind), u.Tag, dest, forced)
	}
	if res.Commits > 0 {
		line("   %s, %s received (%s)\n", plural(res.Commits, "commit"), plural(res.Blobs, "blob"), humanSize(res.Bytes))
	}
	for _, d := range res.Shallow {
		line("   history is shallow at %s: the remote no longer has its parent\n", shortID(d))
	}
}

// warnSkipped says on stderr, even when quiet (as git shows warnings),
// which remote tags fetch skipped and why: names that cannot be refs,
// manifests that are not images, images that cannot be commits.
func warnSkipped(g *globals, verb, remoteArg string, res remote.FetchResult) {
	for _, u := range res.Tags {
		switch {
		case u.Invalid:
			fmt.Fprintf(g.stderr, "strata: %s: skipping invalid tag %q from %s\n", verb, u.Tag, remoteArg)
		case u.Skipped != "":
			fmt.Fprintf(g.stderr, "strata: %s: skipping tag %q from %s: %s\n", verb, u.Tag, remoteArg, escapeControls(u.Skipped))
		}
	}
}
