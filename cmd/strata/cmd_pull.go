//go:build !strata_front

package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/remote"
	"github.com/strata-sh/strata/worktree"
)

func init() { register("pull", newPullCommand) }

func newPullCommand(g *globals) *cobra.Command {
	var o transferFlags
	var force, rebase, merge, ffOnly, unrelated bool
	cmd := &cobra.Command{
		Use:   "pull [--ff-only | --rebase | --merge [--allow-unrelated-histories]] [REMOTE [BRANCH | SRC:DST]]",
		Short: "Fetch a branch and bring it and the work tree up to date",
		Long: `Fetch BRANCH (default: the current branch's upstream, the remote
branch it merges: git's branch.NAME.merge, which clone and push -u
write, else the branch of its own name) from REMOTE (default: the
branch's remote, else origin), then fast-forward the local branch to it,
and the work tree pull runs in (a linked one too) if it shows that
branch; a branch another work tree shows is refused (pull there). When
the branch has commits of its own that the remote lacks, --rebase
replays them onto what was
fetched (strata rebase; after a push --force to the remote, not the
commits the remote dropped: git's fork point) and --merge makes a merge
commit (strata merge);
with neither, config pull.rebase decides (true: rebase, false: merge),
and if it is unset the pull is refused, as with --ff-only (which
overrides pull.rebase). A conflict stops the rebase or
merge as those commands do: 'strata rebase --continue' or
'strata merge --continue' finishes it, --abort undoes it. A merge with a
remote history that shares no commit with the branch is refused, as
merge refuses it, unless --allow-unrelated-histories.
A merge commit's message is git's pull's, "Merge branch 'main' of URL";
a rebase is onto the remote-tracking branch the commit came through
(origin/main).
A work tree with uncommitted changes, or with a merge, rebase,
cherry-pick or revert in progress, is refused before anything moves, and
so is one with a container running in it (strata run) unless --force.

The remote tag also moves the remote-tracking ref that remote.REMOTE.fetch
maps it to; when that is refused (a refspec without '+', the remote's
history rewritten), the pull stops there, as git's: exit 1, nothing moved.

SRC:DST, as in git's refspecs, pulls the remote tag SRC into the local
branch DST: "pull origin main:staging". The remote tag also moves the
remote-tracking ref that remote.REMOTE.fetch maps it to (by default
REMOTE/SRC), as fetch moves it.

Exit status: 0 on success, 1 on errors, 2 on usage errors.`,
		Args: rangeArgs(0, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			// The work tree pull runs in, a linked one too: its branch,
			// and its files that follow it.
			r, w, err := openWorktree(g, "")
			if err != nil {
				return err
			}
			h, err := w.Head()
			if err != nil {
				return err
			}
			branch := refs.ShortName(h.Branch)
			tag, what := branch, branch // the remote tag; how messages name them
			isTag := false              // branch.NAME.merge names refs/tags/TAG
			switch {
			case len(args) == 2:
				if branch, tag, err = pullRefspec(args[1]); err != nil {
					return err
				}
				what = args[1]
			case branch != "" && (len(args) == 0 || args[0] == r.UpstreamRemote(branch)):
				// From its own remote: the remote branch it merges
				// (git's branch.NAME.merge).
				if tag, isTag, err = r.UpstreamTag(branch); err != nil {
					return fmt.Errorf("pull: %w", err)
				}
				what = tag
			}
			if branch == "" {
				return usagef("pull: HEAD is detached: name the branch to pull")
			}
			if rebase && merge {
				return usagef("pull: --rebase and --merge exclude each other")
			}
			if ffOnly && (rebase || merge) {
				return usagef("pull: --ff-only excludes --rebase and --merge")
			}
			mode := ""
			switch v, set, err := r.Config.Bool("pull.rebase"); {
			case ffOnly:
				// A fast-forward or nothing, whatever pull.rebase says.
			case rebase:
				mode = worktree.PullRebase
			case merge:
				mode = worktree.PullMerge
			case err != nil:
				return fmt.Errorf("pull: %w", err)
			case set && v:
				mode = worktree.PullRebase
			case set:
				mode = worktree.PullMerge
			}
			remoteArg, ok := r.Config.Get("branch." + branch + ".remote")
			if !ok {
				remoteArg = "origin"
			}
			if len(args) > 0 {
				remoteArg = args[0]
			}
			fail := func(err error) error { return fmt.Errorf("pull %s %s: %w", remote.Redact(remoteArg), what, err) }
			up, err := worktree.PrepareBranchUpdate(ctx, w, branch, force)
			if err != nil {
				return fail(err)
			}
			rem, err := resolveRemote(r, remoteArg)
			if err != nil {
				return fail(err)
			}
			s, p, err := connect(g, r, rem, o, "receive")
			if err != nil {
				return fail(err)
			}
			res, err := s.Fetch(ctx, r, []string{tag})
			p.finish()
			if err != nil {
				return fail(err)
			}
			// -q: what merge -q and rebase -q would say, as git's pull.
			g.quiet = o.quiet
			warnSkipped(g, "pull", remoteArg, res)
			// git's pull: "From URL" always when BRANCH is named (its
			// fetch then shows "* branch main -> FETCH_HEAD"), else only
			// over what the fetch moved, as fetch prints it.
			printFetch(g, s, res, o.quiet, len(args) == 2)
			to, err := pulled(res, remoteArg)
			if err != nil {
				return fail(err)
			}
			diverged, err := up.Diverged(to)
			switch {
			case err != nil:
				return fail(err)
			case diverged && ffOnly:
				return fail(errors.New("not possible to fast-forward: branch and remote have diverged (pull with --rebase or --merge instead of --ff-only)"))
			case diverged && mode != "":
				// The step that failed is named once (mode is the
				// command's name): "pull origin main: rebase: 1 conflict".
				out, err := up.Integrate(ctx, to, integrateOptions(s, tag, isTag, mode, unrelated))
				if err := report(g, mode, out, err); err != nil {
					return fail(err)
				}
				return nil
			}
			old, err := up.FastForward(ctx, to, "pull: fast-forward")
			switch {
			case err != nil:
				return fail(err)
			case o.quiet:
			case old == to:
				fmt.Fprintln(g.stdout, "Already up to date.")
			case old == "":
				fmt.Fprintf(g.stdout, "Branch %s created at %s\n", branch, shortID(to))
			default:
				// git's merge: "Updating a..b", "Fast-forward".
				fmt.Fprintf(g.stdout, "Updating %s..%s\nFast-forward\n", shortID(old), shortID(to))
			}
			return nil
		},
	}
	o.add(cmd)
	cmd.Flags().Lookup("quiet").Usage = "say nothing on success: no progress, no outcome (conflicts and errors still)"
	cmd.Flags().BoolVar(&force, "force", false, "move the work tree even while a container or process uses it")
	cmd.Flags().BoolVar(&ffOnly, "ff-only", false, "refuse unless a fast-forward will do, whatever pull.rebase says")
	cmd.Flags().BoolVar(&rebase, "rebase", false, "replay the branch's own commits onto the fetched ones")
	cmd.Flags().BoolVar(&merge, "merge", false, "merge the fetched commits with a merge commit")
	cmd.Flags().BoolVar(&unrelated, "allow-unrelated-histories", false, "let a merge join a remote history with no commit in common with the branch")
	return cmd
}

// integrateOptions names what pull fetched, as git's pull does: a merge
// commit is "Merge branch 'TAG' of URL" (tag 'TAG' when branch.NAME.merge
// names refs/tags/TAG), and messages name the remote-tracking branch the
// commit came through (remote.REMOTE.fetch's mapping of TAG: up/main),
// or, for a remote without one (a URL), "branch 'TAG' of URL" too.
func integrateOptions(s *remote.Session, tag string, isTag bool, mode string, unrelated bool) worktree.IntegrateOptions {
	kind := "branch"
	if isTag {
		kind = "tag"
	}
	o := worktree.IntegrateOptions{Mode: mode, Tracking: s.Tracking(tag), AllowUnrelated: unrelated,
		Fetched: fmt.Sprintf("%s '%s' of %s", kind, tag, s.Endpoint())}
	o.Name = o.Fetched
	if o.Tracking != "" {
		o.Name = refs.ShortName(o.Tracking)
	}
	return o
}

// pulled is the commit a pull's fetch brought (res: the one tag it
// fetched, with an update for each remote-tracking ref it maps to). A
// remote-tracking ref refused (a remote.REMOTE.fetch without '+', the
// remote's history rewritten) stops the pull there, as git's pull stops
// when its fetch fails: nothing was received and nothing moves.
func pulled(res remote.FetchResult, remoteArg string) (digest.Digest, error) {
	var to digest.Digest
	for _, u := range res.Tags {
		if u.Rejected != "" {
			return "", fmt.Errorf("%s -> %s rejected (%s): nothing was pulled; 'strata fetch --force %s %s' moves it (or a '+' before remote.%s.fetch)", u.Tag, refs.ShortName(u.Ref), u.Rejected, remoteArg, u.Tag, remoteArg)
		}
		if u.New != "" {
			to = u.New
		}
	}
	if to == "" {
		return "", errors.New("the remote has no image under that tag")
	}
	return to, nil
}

// pullRefspec reads pull's BRANCH, or git's SRC:DST: the remote tag SRC
// into the local branch DST. A pattern, a '+' (pull never forces: it
// fast-forwards, rebases or merges) or a DST that is no branch is a
// usage error.
func pullRefspec(arg string) (branch, tag string, err error) {
	rs, err := refs.ParseRefspec(arg)
	switch {
	case err != nil:
		return "", "", usageError{fmt.Errorf("pull: %w", err)}
	case rs.Glob():
		return "", "", usagef("pull: %s: a pattern: pull takes one branch (fetch takes patterns)", arg)
	case rs.Force:
		return "", "", usagef("pull: %s: pull never forces a branch: drop the '+' (--rebase or --merge bring diverged histories together)", arg)
	case rs.Dst == "":
		return rs.Src, rs.Src, nil
	case !strings.HasPrefix(rs.Dst, refs.Heads):
		return "", "", usagef("pull: %s: DST must be a branch: pull moves a branch and its work tree (fetch moves other refs)", arg)
	}
	return refs.ShortName(rs.Dst), rs.Src, nil
}
