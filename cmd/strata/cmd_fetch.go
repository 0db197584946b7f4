//go:build !strata_front

package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/remote"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/worktree"
)

func init() { register("fetch", newFetchCommand) }

func newFetchCommand(g *globals) *cobra.Command {
	var o fetchFlags
	cmd := &cobra.Command{
		Use:   "fetch [-f] [-u] [-a | --no-write-fetch-head] [--dry-run] [--porcelain | --format json] [REMOTE [REFSPEC...]] | --all",
		Short: "Receive a remote's tags, with their history",
		Long: `Fetch from REMOTE (default: the current branch's remote, branch.NAME.remote,
else the one remote configured, else origin, which must then be
configured) what each REFSPEC names, as git's fetch: [+]SRC[:DST].
SRC is a remote tag (a registry has tags only: refs/heads/T and
refs/tags/T both name the tag T); DST the local ref it goes to: a full
refs/heads/, refs/tags/ or refs/remotes/ name, or, as git's, heads/X,
tags/X or remotes/X under refs/, and any other a branch. "tag T" is
refs/tags/T:refs/tags/T. A '*' in both sides maps every remote tag it
matches: 'refs/heads/*:refs/remotes/origin/*'. A pattern's DST is a full
refs/ name, as git's: 'refs/heads/*:foo/*' maps each tag to a ref git
calls funny, and fetch skips it with a warning ("ignoring funny ref
'foo/main' locally"); '*:*' maps each tag to the branch of its name.
A negative refspec, ^SRC (git's; SRC may be a pattern, with no DST and
no '+'), keeps the tags it matches out, in remote.NAME.fetch and on the
command line: "fetch origin 'refs/heads/*:refs/remotes/x/*' '^tmp-*'".

  strata fetch origin                      # remote.origin.fetch: every tag -> origin/TAG
  strata fetch origin main v1              # those tags -> origin/main, origin/v1
  strata fetch origin main:feature         # the remote's main -> local branch feature
  strata fetch origin +main:feature        # even when not a fast-forward
  strata fetch origin tag v1               # the remote's v1 -> local tag v1
  strata fetch origin 'refs/heads/*:refs/remotes/mirror/*'

With no REFSPEC, the remote's configured refspecs (remote.NAME.fetch,
which remote add and clone write as git does:
+refs/heads/*:refs/remotes/NAME/*) say what to fetch; a remote given as a
URL fetches every tag to no ref. Each tag named on the command line also
moves the remote-tracking ref those refspecs map it to (git's
opportunistic update); --refmap SPEC replaces them for that, and
--refmap '' turns it off.

A DST moves only by a fast-forward, unless the refspec starts with '+'
or -f (--force) is given; an existing tag does not move at all without
them. A refused ref stays where it was (" ! [rejected] main -> feature
(non-fast-forward)"), the others move, and fetch exits 1. The branch
checked out in a work tree is not fetched into (pull moves it with its
files) unless -u (--update-head-ok, git's): the branch moves and the
work tree keeps its files; status then says HEAD moved, 'strata reset
--hard' takes HEAD's files, 'reset --soft HEAD' keeps these on top. No
commit is received that only a refused ref would name; --dry-run reads
the remote's manifests and prints what would move, receiving and writing
nothing.

History is followed through each
commit's parent (dev.strata.parent) down to a commit already here; where
the registry no longer has an ancestor, the history stops there and the
commit is marked shallow. An image with no strata history arrives as a
root commit. Every blob is verified before it is stored, and read no
further than the size its manifest declares. A tag whose name cannot be a ref (a..b, HEAD, x.lock), or
whose image cannot be a commit (a signature, a config that is not JSON,
lacks a layer's diff id or gives one that is not a sha256 digest), is skipped with a warning on stderr, even
with -q; a tag named on the command line that cannot be fetched (no such
tag, or one of those) fails the fetch. Registries off loopback are spoken to
over https only, unless --insecure or remote.REMOTE.insecure = true.
git's --tags (-t) and --prune-tags (-P) are refused, exit 2: a
registry's tags do not say which were git tags (a branch is a tag there
too), so every remote branch would become a local tag; name the tags
to fetch ('strata fetch origin tag v1'). --no-tags (-n) is taken, as
fetch follows no tags anyway.
--prune deletes the remote-tracking refs (those under refs/remotes/ that
remote.REMOTE.fetch maps tags to: refs/remotes/REMOTE/*) whose tags the
remote no longer has (see push --delete). --all fetches every remote, in
turn, as git's ("Fetching NAME" before each when there are several); one
that fails is said and the others are fetched, exit 1.

Every fetch but --dry-run writes .strata/FETCH_HEAD, as git's: one line
per remote tag received, "ID<TAB>[not-for-merge]<TAB>branch 'T' of URL"
(see docs/format.md); -a (--append) adds them to what it holds,
--no-write-fetch-head leaves it as it is (--write-fetch-head after it
writes it again: the last wins). As git 2.39's, fetch reads no
fetch.writeFetchHead: only the flag leaves FETCH_HEAD alone. A FETCH_HEAD
it cannot write (a directory) fails the fetch before it asks the remote
anything, as git's: no ref moves. The tags named on the command
line are for merge; with none, the current branch's upstream is, if it
is this remote's.
The revision FETCH_HEAD is its first line's commit: "strata fetch origin
main && strata merge FETCH_HEAD". A tag named with no DST shows as
git's " * branch                      main       -> FETCH_HEAD".
The report's columns are git's: the change as wide as "OLD...NEW" (27),
the tag 10 wide or as the widest tag moved (one whose line would not
fit the terminal aside).

--porcelain prints one line per ref moved, refused or pruned, as git's:
FLAG OLD NEW REF (FLAG ' ' fast-forward, '+' forced, '*' new, 't' tag,
'!' refused, '-' pruned; OLD sha256:0... for none). --format json
prints every tag fetched: [{"remote","tag","ref","old","new","status"}],
status new, fast-forward, forced, up-to-date, rejected (with "reason"),
deleted, skipped (with "reason"), or fetched (to no ref).

Exit status: 0 on success, 1 on errors (a refused ref too), 2 on usage
errors (a refspec git would call invalid).`,
		Args: rangeArgs(0, 100),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.check(); err != nil {
				return err
			}
			var out fetchOutput
			err := fetchAll(cmd, g, o, args, &out)
			return out.flush(g, o, err)
		},
	}
	o.add(cmd)
	return cmd
}

// fetchAll is fetch --all, or fetch of one remote without it.
func fetchAll(cmd *cobra.Command, g *globals, o fetchFlags, args []string, out *fetchOutput) error {
	if !o.all {
		return fetchOne(cmd, g, o, args, out)
	}
	if len(args) > 0 {
		return usagef("fetch: --all fetches every remote: it takes no REMOTE or TAG")
	}
	r, err := g.openRepo()
	if err != nil {
		return err
	}
	remotes := remote.List(r.Config)
	if len(remotes) == 1 {
		// As git's: one remote is fetched as if named, with no
		// "Fetching" line.
		return fetchOne(cmd, g, o, []string{remotes[0].Name}, out)
	}
	appending := o.appendFetchHead
	var failed []string
	for i, rem := range remotes {
		if !o.quiet && o.text() {
			fmt.Fprintf(g.stdout, "Fetching %s\n", rem.Name)
		}
		// As git's fetch --all: FETCH_HEAD holds what every remote gave.
		o.appendFetchHead = appending || i > 0
		if err := fetchOne(cmd, g, o, []string{rem.Name}, out); err != nil {
			if cmd.Context().Err() != nil {
				return err
			}
			// As git's: a remote that fails is said, and the others
			// are fetched all the same; the exit status is 1.
			printError(g.stderr, err)
			failed = append(failed, rem.Name)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("fetch --all: could not fetch %s", strings.Join(failed, ", "))
	}
	return nil
}

// fetchOne is fetch [REMOTE [REFSPEC...]].
func fetchOne(cmd *cobra.Command, g *globals, o fetchFlags, args []string, out *fetchOutput) error {
	r, rem, remoteArg, args, err := openRemote(g, "fetch", args)
	if err != nil {
		return err
	}
	specs, err := fetchRefspecs(args)
	if err != nil {
		return err
	}
	refmap, err := o.readRefmap(cmd, len(specs) > 0)
	if err != nil {
		return err
	}
	if !o.dryRun && !o.noFetchHead {
		// As git's fetch, which opens FETCH_HEAD first: a FETCH_HEAD
		// it cannot write fails the fetch before anything moved.
		if err := r.Refs.CheckFetchHead(o.appendFetchHead); err != nil {
			return fmt.Errorf("fetch %s: %w", remoteArg, err)
		}
	}
	s, p, err := connect(g, r, rem, o.transferFlags, "receive")
	if err != nil {
		return fmt.Errorf("fetch %s: %w", remoteArg, err)
	}
	if cmd.Flags().Changed("refmap") {
		s.SetRefmap(refmap)
	}
	fo := remote.FetchOptions{Force: o.force, DryRun: o.dryRun}
	if !o.updateHeadOK {
		fo.CheckDst = func(ref string) error { return refuseCheckedOut(r, ref) }
	}
	res, err := s.FetchSpecs(cmd.Context(), r, specs, fo)
	p.finish()
	if errors.Is(err, refs.ErrBadRefspec) {
		return usageError{fmt.Errorf("fetch %s: %w", remoteArg, err)}
	}
	if err != nil {
		return fmt.Errorf("fetch %s: %w", remoteArg, err)
	}
	warnSkipped(g, "fetch", remoteArg, res)
	fs := fetchedTags(specs, res, fetchHeadFor(r, rem, len(specs) > 0))
	if !o.dryRun && !o.noFetchHead {
		if err := writeFetchHead(r, s, fs, o.appendFetchHead); err != nil {
			return fmt.Errorf("fetch %s: %w", remoteArg, err)
		}
	}
	if o.prune {
		pruned, err := s.Prune(cmd.Context(), r, o.dryRun)
		if err != nil {
			return fmt.Errorf("fetch %s: prune: %w", remoteArg, err)
		}
		res.Tags = append(res.Tags, pruned...)
	}
	out.add(g, s, remoteArg, res, fs, o)
	return rejectedError(remoteArg, res)
}

// fetchRefspecs reads fetch's REFSPEC arguments; "tag T" is
// refs/tags/T:refs/tags/T, as in git.
func fetchRefspecs(args []string) ([]refs.Refspec, error) {
	var out []refs.Refspec
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "tag" {
			if i+1 == len(args) {
				return nil, usagef("fetch: tag: you need to specify a tag name")
			}
			i++
			a = refs.Tags + args[i] + ":" + refs.Tags + args[i]
		}
		rs, err := refs.ParseRefspec(a)
		if err != nil {
			return nil, usageError{fmt.Errorf("fetch: %w", err)}
		}
		out = append(out, rs)
	}
	return out, nil
}

// refuseCheckedOut refuses to fetch into a branch a work tree shows, as
// git refuses it: its files would no longer be its HEAD's.
func refuseCheckedOut(r *repo.Repo, ref string) error {
	if !strings.HasPrefix(ref, refs.Heads) {
		return nil
	}
	wt, err := worktree.CheckedOutIn(r, ref, nil)
	if err != nil || wt == nil {
		return err
	}
	return fmt.Errorf("refusing to fetch into branch '%s' checked out at '%s'", ref, wt.Target())
}

// rejectedError is fetch's exit 1 when it refused to move a ref.
func rejectedError(remoteArg string, res remote.FetchResult) error {
	var refused []remote.TagUpdate
	for _, u := range res.Tags {
		if u.Rejected != "" {
			refused = append(refused, u)
		}
	}
	switch len(refused) {
	case 0:
		return nil
	case 1:
		u := refused[0]
		return fmt.Errorf("fetch %s: %s -> %s rejected (%s): use +SRC:DST or --force to move it anyway", remoteArg, u.Tag, refs.ShortName(u.Ref), u.Rejected)
	}
	return fmt.Errorf("fetch %s: %d refs rejected (see above): use +SRC:DST or --force to move them anyway", remoteArg, len(refused))
}

// printFetch tells what a fetch moved and received, under "From URL":
// first git's " * branch main -> FETCH_HEAD" for each tag of fs fetched
// to no ref of its own, then the refs moved. As git's fetch, one that
// changed nothing prints nothing, unless from (pull of a named BRANCH,
// whose own line follows).
func printFetch(g *globals, s *remote.Session, res remote.FetchResult, fs []fetched, quiet, from bool) {
	if quiet {
		return
	}
	line := func(format string, a ...any) {
		if !from {
			fmt.Fprintf(g.stderr, "From %s\n", s.Endpoint())
			from = true
		}
		fmt.Fprintf(g.stderr, format, a...)
	}
	if from {
		fmt.Fprintf(g.stderr, "From %s\n", s.Endpoint())
	}
	cols := columnsFor(res, termColumns(g.stdout)) // stdout's terminal, as git's term_columns (fd 1), though the lines go to stderr
	for _, f := range fs {
		if f.head {
			line("%s\n", cols.line(" * "+f.kind, f.tag, "FETCH_HEAD"))
		}
	}
	for _, u := range res.Tags {
		if u.Invalid || u.Skipped != "" || u.Ref == "" {
			continue // warned on stderr, or a FETCH_HEAD line above
		}
		dest := refs.ShortName(u.Ref)
		if u.Rejected != "" {
			line("%s  (%s)\n", cols.line(" ! [rejected]", u.Tag, dest), u.Rejected)
			continue
		}
		if u.Old == u.New {
			continue
		}
		if u.New == "" {
			// git prunes before it fetches: its "(none)" is in the
			// first column's width, 10.
			line("%s\n", fetchColumns{cols.summary, 10}.line(" - [deleted]", "(none)", dest))
			continue
		}
		kind := "branch" // refs/remotes/<remote>/<tag> track the remote's branches
		if strings.HasPrefix(u.Ref, refs.Tags) {
			kind = "tag"
		}
		if kind == "tag" && u.Old != "" {
			// git's word for a tag moved (which takes a '+').
			line("%s\n", cols.line(" t [tag update]", u.Tag, dest))
			continue
		}
		forced := ""
		if u.Forced {
			forced = "  (forced update)"
		}
		line("%s%s\n", cols.line(refChange(u.Old, u.New, u.Forced, kind), u.Tag, dest), forced)
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
