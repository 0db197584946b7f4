//go:build !strata_front

package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/remote"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/worktree"
)

func init() { register("pull", newPullCommand) }

func newPullCommand(g *globals) *cobra.Command {
	var o transferFlags
	var force, rebase, noRebase, merge, unrelated, autostashOn, autostashOff bool
	var ffFlag string // --ff, --no-ff or --ff-only, the last given
	var stat mergeStat
	cmd := &cobra.Command{
		Use:   "pull [--ff | --no-ff | --ff-only] [--rebase | --merge [--allow-unrelated-histories]] [--[no-]autostash] [--[no-]stat] [REMOTE [BRANCH | SRC:DST]...]",
		Short: "Fetch a remote branch and bring the current branch and its work tree up to date",
		Long: `Fetch BRANCH from REMOTE, then bring the current branch up to date
with it, as git's pull: fast-forward it, and the work tree pull runs in
(a linked one too). With no BRANCH, the current branch's upstream: the
remote branch it merges (branch.NAME.merge, which clone and push -u
write) from its remote (branch.NAME.remote); pull REMOTE takes it only
from that remote. Without an upstream, pull and pull REMOTE are refused
with git's words (name the branch: pull REMOTE BRANCH needs none). When
the branch has commits of its own that the remote lacks, --rebase (-r)
replays them onto what was fetched (strata rebase; after a push --force
to the remote, not the commits the remote dropped: git's fork point)
and --merge (git's --no-rebase) makes a merge commit (strata merge);
with neither, config pull.rebase decides (true: rebase, false: merge), and if it is unset
the pull is refused ("need to specify how to reconcile divergent
branches"), as with --ff-only ("not possible to fast-forward,
aborting"), which overrides pull.rebase, --rebase and --merge, as git
2.39's (a rebase asked for still refuses uncommitted changes before the
fetch). --ff, --no-ff and --ff-only
are git's one choice (the last given wins; none: config pull.ff, true,
false or only): --no-ff makes a merge commit even where a fast-forward
would do, and --ff and --no-ff merge a branch that diverged, as git's
(pull.rebase true still rebases); an explicit --rebase or --merge
overrides pull.ff = only. A conflict stops the rebase or
merge as those commands do: 'strata rebase --continue' or
'strata merge --continue' finishes it, --abort undoes it. A merge with a
remote history that shares no commit with the branch is refused, as
merge refuses it, unless --allow-unrelated-histories.
A merge commit's message is git's pull's, "Merge branch 'main' of URL";
a rebase is onto the remote-tracking branch the commit came through
(origin/main).
A fast-forward or a merge commit is followed by merge's diffstat of
what it brought, as git's pull (not a rebase's): --stat, --no-stat
(-n), else config merge.stat (default true); -q prints none.
Uncommitted changes are handled as git's pull handles them: the fetch
comes first, then a fast-forward keeps the changes it does not
overwrite and refuses (naming them) those where it writes; a merge
refuses them all (strata merges into a clean work tree only); --rebase
refuses them before fetching. A work tree with a merge, rebase,
cherry-pick or revert in progress is refused before anything moves, and
so is one with a container running in it (strata run) unless --force.

--autostash, as git's, puts uncommitted changes aside in the stash
before the fast-forward, rebase or merge ("Created autostash: ID") and
back after it ("Applied autostash."); without --autostash or
--no-autostash, config rebase.autoStash says so when a rebase was asked
for, merge.autoStash otherwise (both default false). When putting them
back conflicts, they are left marked and the entry "autostash" stays in
the stash, said, and the pull still succeeds. A merge or rebase that
stops on a conflict leaves them in the stash: 'strata stash pop' once it
is done (git keeps them with the operation and applies them when it
ends). A pull of several BRANCHes takes no autostash.

Several BRANCHes, as git's pull of several: each is fetched, then
merged as 'strata merge FETCH_HEAD' merges them (heads the branch has,
and heads another has, drop out; two that both hold the branch are
git's octopus, a commit of the two; more parents are refused). That is
no fast-forward: --ff-only and --rebase are refused, and without
--merge (or pull.rebase false) so is the pull, unless the branch has
them all.

As git's pull, it writes .strata/FETCH_HEAD (see fetch), naming the
remote tag for merge, and, when BRANCH is named, says so as git's:
" * branch                      main       -> FETCH_HEAD".

The remote tag also moves the remote-tracking ref that remote.REMOTE.fetch
maps it to; when that is refused (a refspec without '+', the remote's
history rewritten), the pull stops there, as git's: exit 1, nothing moved.

SRC:DST, as git's, fetches the remote tag SRC into the local ref DST too,
as fetch moves it (a fast-forward, or forced by a '+'; a branch another
work tree shows is refused), then brings the current branch up to date
with SRC: "pull origin main:staging". A DST that is the current branch
is the branch pull moves.

Exit status: 0 on success, 1 on errors, 2 on usage errors.`,
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
			if branch == "" {
				return errors.New("pull: HEAD is detached, on no branch: switch to the branch to pull into")
			}
			if len(args) > 0 && args[0] == "" {
				return errEmptyRemote("pull")
			}
			want, what, isTag, err := pullWhat(r, branch, args[:min(len(args), 2)])
			if err != nil {
				return err
			}
			wants := []refs.Refspec{want}
			if len(args) > 2 {
				if wants, err = pullSpecs(branch, args[1:]); err != nil {
					return err
				}
				what = strings.Join(args[1:], " ")
			}
			tag := want.Src
			merge = merge || noRebase
			if rebase && merge {
				return usagef("pull: --rebase and --merge exclude each other")
			}
			ff, err := pullFFMode(r, ffFlag, rebase || merge)
			if err != nil {
				return fmt.Errorf("pull: %w", err)
			}
			ffOnly := ff == pullFFOnly
			if err := stat.resolve(r); err != nil {
				return fmt.Errorf("pull: %w", err)
			}
			// As git 2.39's: --ff-only wins over --rebase and --merge,
			// given in either order; a rebase asked for (here or by
			// pull.rebase) still refuses changes before the fetch.
			rebasing, err := pullRebases(r, rebase, merge)
			if err != nil {
				return fmt.Errorf("pull: %w", err)
			}
			autostashes, err := pullAutostashes(r, autostashOn, autostashOff, rebasing)
			if err != nil {
				return fmt.Errorf("pull: %w", err)
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
			case ff == pullFF || ff == pullNoFF:
				// As git's: --ff and --no-ff (or pull.ff) say merge.
				mode = worktree.PullMerge
			}
			remoteArg := r.UpstreamRemote(branch)
			if len(args) > 0 {
				remoteArg = args[0]
			} else if remoteArg == "" {
				// git's remote '', whose URL is '': "no path specified".
				return fmt.Errorf("pull: no path specified: branch.%s.remote is set to '' (name a remote there, or unset it)", branch)
			}
			fail := func(err error) error { return fmt.Errorf("pull %s %s: %w", remote.Redact(remoteArg), what, err) }
			// As git's pull: --rebase refuses a work tree with changes
			// before fetching; a fast-forward keeps them (up.FastForward).
			up, err := worktree.PrepareBranchUpdate(ctx, w, branch, force, !rebasing || autostashes)
			if err != nil {
				return fail(err)
			}
			rem, err := resolveRemote(r, remoteArg)
			if err != nil {
				return fail(err)
			}
			// As git's pull, whose fetch opens FETCH_HEAD first.
			if err := r.Refs.CheckFetchHead(false); err != nil {
				return fail(err)
			}
			s, p, err := connect(g, r, rem, o, "receive")
			if err != nil {
				return fail(err)
			}
			// As git's pull, whose fetch moves a DST (git's --update-head-ok
			// aside: the branch pull moves is no DST, pullWhat).
			fo := remote.FetchOptions{CheckDst: func(ref string) error { return refuseCheckedOut(r, ref) }}
			res, err := s.FetchSpecs(ctx, r, wants, fo)
			p.finish()
			if err != nil {
				return fail(err)
			}
			// -q: what merge -q and rebase -q would say, as git's pull.
			g.quiet = o.quiet
			warnSkipped(g, "pull", remoteArg, res)
			// As git's pull, FETCH_HEAD names what was fetched, for
			// merge. Its fetch shows "* branch main -> FETCH_HEAD" when
			// BRANCH is named, else only what it moved.
			fs := fetchedTags(wants, res, func(string) bool { return true })
			if err := writeFetchHead(r, s, fs, false); err != nil {
				return fail(err)
			}
			if len(args) < 2 {
				for i := range fs {
					fs[i].head = false
				}
			}
			printFetch(g, s, res, fs, o.quiet, len(args) >= 2)
			if len(wants) > 1 {
				if err := pullHeads(ctx, g, up, fs, mode, ffOnly, unrelated); err != nil {
					return fail(err)
				}
				return nil
			}
			to, err := pulled(res, remoteArg)
			if err != nil {
				return fail(err)
			}
			diverged, err := up.Diverged(to)
			if err != nil {
				return fail(err)
			}
			// --no-ff: a merge commit even where a fast-forward would do.
			noFF := ff == pullNoFF && mode == worktree.PullMerge && !diverged
			if noFF {
				if old, err := r.Refs.Read(h.Branch); err != nil || old == "" {
					noFF = false // an unborn branch: created, as git's
				}
			}
			integrate := diverged && mode != "" || noFF
			if diverged && ffOnly {
				return fail(errors.New("not possible to fast-forward, aborting: the branch and the remote have diverged (pull with --rebase or --merge instead of --ff-only)"))
			}
			old, err := r.Refs.Read(h.Branch)
			if err != nil && !errors.Is(err, refs.ErrNotFound) {
				return fail(err)
			}
			forward := !integrate && !diverged && old != "" && old != to
			if forward {
				if forward, err = repo.IsAncestor(r.Objects, old, to); err != nil {
					return fail(err)
				}
			}
			if forward && !o.quiet {
				// git's merge: "Updating a..b", before its autostash
				// and before a refusal to overwrite changes.
				fmt.Fprintf(g.stdout, "Updating %s..%s\n", shortID(old), shortID(to))
			}
			var as *autostash
			if autostashes && (integrate || forward) {
				if as, err = startAutostash(ctx, g, w, force); err != nil {
					return fail(err)
				}
				if as != nil {
					// The work tree is clean now: prepared anew.
					if up, err = worktree.PrepareBranchUpdate(ctx, w, branch, force, true); err != nil {
						return fail(as.finish(ctx, g, err))
					}
				}
			}
			if integrate {
				err = pullIntegrate(ctx, g, up, to, integrateOptions(s, tag, isTag, mode, unrelated), noFF, o.quiet, stat, w)
			} else {
				err = pullFastForward(ctx, g, up, to, branch, o.quiet, stat, w)
			}
			if err = as.finish(ctx, g, err); err != nil {
				return fail(err)
			}
			return nil
		},
	}
	o.add(cmd)
	cmd.Flags().Lookup("quiet").Usage = "say nothing on success: no progress, no outcome (conflicts and errors still)"
	cmd.Flags().BoolVar(&force, "force", false, "move the work tree even while a container or process uses it")
	for _, f := range []struct{ name, value, usage string }{
		{"ff-only", pullFFOnly, "refuse unless a fast-forward will do, whatever pull.rebase says"},
		{"ff", pullFF, "fast-forward when possible, else merge (of it, --no-ff and --ff-only the last given wins)"},
		{"no-ff", pullNoFF, "make a merge commit even when a fast-forward would do"},
	} {
		cmd.Flags().Var(ffChoice{&ffFlag, f.value}, f.name, f.usage)
		cmd.Flags().Lookup(f.name).NoOptDefVal = "true"
	}
	cmd.Flags().VarPF(lastWins{&rebase, &noRebase}, "rebase", "r", "replay the branch's own commits onto the fetched ones").NoOptDefVal = "true"
	cmd.Flags().VarPF(lastWins{&noRebase, &rebase}, "no-rebase", "", "as --merge, git's; of it and --rebase the last given wins").NoOptDefVal = "true"
	cmd.Flags().BoolVar(&merge, "merge", false, "merge the fetched commits with a merge commit")
	cmd.Flags().Var(lastWins{&autostashOn, &autostashOff}, "autostash", "put uncommitted changes aside in the stash before the merge, rebase or fast-forward and back after it")
	cmd.Flags().Lookup("autostash").NoOptDefVal = "true"
	cmd.Flags().Var(lastWins{&autostashOff, &autostashOn}, "no-autostash", "do not, whatever rebase.autoStash or merge.autoStash say; of it and --autostash the last given wins")
	cmd.Flags().Lookup("no-autostash").NoOptDefVal = "true"
	cmd.Flags().BoolVar(&unrelated, "allow-unrelated-histories", false, "let a merge join a remote history with no commit in common with the branch")
	stat.add(cmd)
	return cmd
}

// pullIntegrate is pull's rebase or merge of to, and the merge's
// diffstat. The step that failed is named once (the mode is the
// command's name): "pull origin main: rebase: 1 conflict".
func pullIntegrate(ctx context.Context, g *globals, up *worktree.BranchUpdate, to digest.Digest, opts worktree.IntegrateOptions, noFF, quiet bool, stat mergeStat, w *worktree.Worktree) error {
	opts.NoFF = noFF
	out, err := up.Integrate(ctx, to, opts)
	if err := report(g, opts.Mode, out, err); err != nil {
		return err
	}
	if opts.Mode == worktree.PullMerge && !quiet && !out.UpToDate {
		return stat.print(ctx, g.stdout, w, out.Seq.OrigHead, out.Head.ID)
	}
	return nil
}

// pullFastForward is pull's fast-forward to to, and what it says after
// "Updating a..b": "Fast-forward" and a diffstat, as git's merge.
func pullFastForward(ctx context.Context, g *globals, up *worktree.BranchUpdate, to digest.Digest, branch string, quiet bool, stat mergeStat, w *worktree.Worktree) error {
	old, err := up.FastForward(ctx, to, "pull: fast-forward")
	switch {
	case err != nil:
		return err
	case quiet:
	case old == to:
		fmt.Fprintln(g.stdout, "Already up to date.")
	case old == "":
		fmt.Fprintf(g.stdout, "Branch %s created at %s\n", branch, shortID(to))
	default:
		fmt.Fprintln(g.stdout, "Fast-forward")
		return stat.print(ctx, g.stdout, w, old, to)
	}
	return nil
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

// pullWhat is what a pull of branch (the current one) fetches and
// integrates, as git's pull reads its arguments: BRANCH (or SRC:DST,
// whose fetch also moves DST as fetch moves it) from the REMOTE named;
// with no BRANCH, the remote branch the current branch merges
// (branch.NAME.merge), from its own remote only. what names it in
// messages; isTag: branch.NAME.merge names refs/tags/TAG.
func pullWhat(r *repo.Repo, branch string, args []string) (want refs.Refspec, what string, isTag bool, err error) {
	if len(args) == 2 {
		if want, err = pullRefspec(args[1]); err != nil {
			return want, "", false, err
		}
		if want.Dst == refs.Heads+branch {
			// The branch pull moves, with its work tree: git's fetch
			// --update-head-ok, then the fast-forward of the work tree.
			want.Dst = ""
		}
		return want, args[1], false, nil
	}
	// git's pull: an upstream is needed, from the branch's own remote.
	remoteName, set := r.Config.Get("branch." + branch + ".remote")
	if len(args) == 1 && (!set || args[0] != remoteName) {
		name := remote.Redact(args[0])
		return want, "", false, fmt.Errorf("pull %s: you asked to pull from the remote '%s', but did not specify a branch: it is not the default configured remote for your current branch, so name one ('strata pull %s BRANCH')", name, name, name)
	}
	if _, merges := r.Config.Get("branch." + branch + ".merge"); !set || !merges {
		if !set {
			remoteName = "REMOTE"
		}
		return want, "", false, fmt.Errorf("pull: there is no tracking information for the current branch: name the branch to merge ('strata pull %s BRANCH'), or set one ('strata branch --set-upstream-to=%s/BRANCH %s')", remoteName, remoteName, branch)
	}
	tag, isTag, err := r.UpstreamTag(branch)
	if err != nil {
		return want, "", false, fmt.Errorf("pull: %w", err)
	}
	return refs.Refspec{Src: tag, Raw: tag, SrcTag: isTag}, tag, isTag, nil
}

// pullRefspec reads pull's BRANCH, or git's [+]SRC:DST: the remote tag
// SRC, which a fetch also takes into DST. A pattern is a usage error.
func pullRefspec(arg string) (refs.Refspec, error) {
	rs, err := refs.ParseRefspec(arg)
	switch {
	case err != nil:
		return rs, usageError{fmt.Errorf("pull: %w", err)}
	case rs.Glob():
		return rs, usagef("pull: %s: a pattern: pull takes branches by name (fetch takes patterns)", arg)
	case rs.Negative:
		return rs, usagef("pull: %s: a negative refspec: pull takes branches by name (fetch and push take them)", arg)
	}
	return rs, nil
}
