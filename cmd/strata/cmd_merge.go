package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/worktree"
)

func init() {
	register("merge", newMergeCommand)
	register("cherry-pick", newCherryPickCommand)
	register("revert", newRevertCommand)
	register("rebase", newRebaseCommand)
}

// seqFlags are the flags of a command that may stop on conflicts.
type seqFlags struct {
	cont, abort, skip, quit, force bool
	quiet                          bool
}

func (f *seqFlags) add(g *globals, cmd *cobra.Command, skip bool) {
	cmd.Flags().BoolVar(&f.cont, "continue", false, "go on after resolving the conflicts")
	cmd.Flags().BoolVar(&f.abort, "abort", false, "give up and go back to the state before")
	cmd.Flags().BoolVar(&f.quit, "quit", false, "forget the operation, leaving HEAD and the work tree as they are")
	if skip {
		cmd.Flags().BoolVar(&f.skip, "skip", false, "drop the commit that conflicted and go on")
	}
	cmd.Flags().BoolVar(&f.force, "force", false, "go ahead even while a container or process uses the work tree; with --abort or --skip, discard changes made since the stop; with --continue, keep lines that look like conflict markers, and conflicts without markers as the stop left them")
	cmd.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "say nothing on success (conflicts and errors are still printed)")
	cmd.Flags().Bool("no-edit", false, "accepted for git's --no-edit: strata opens no editor, the message is the default or -m's")
	// Read before RunE runs: report and control say nothing then.
	run := cmd.RunE
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		g.quiet = f.quiet
		return run(cmd, args)
	}
}

// control runs --continue, --skip or --abort if one is given.
func (f *seqFlags) control(cmd *cobra.Command, g *globals, op string, args []string) (bool, error) {
	n := 0
	for _, b := range []bool{f.cont, f.abort, f.skip, f.quit} {
		if b {
			n++
		}
	}
	if n == 0 {
		return false, nil
	}
	if n > 1 || len(args) > 0 {
		return true, usagef("%s: --continue, --skip, --abort and --quit take no other argument", op)
	}
	_, w, err := openWorktree(g, "")
	if err != nil {
		return true, err
	}
	// --abort and --skip refuse it themselves, under the work tree's lock.
	if !f.force && !f.abort && !f.skip {
		if err := w.RefuseWhileRunning(); err != nil {
			return true, fmt.Errorf("%s: %w", op, err)
		}
	}
	ctx := cmd.Context()
	switch {
	case f.quit:
		if err := w.Quit(op); err != nil {
			return true, fmt.Errorf("%s --quit: %w", op, err)
		}
		return true, nil
	case f.abort:
		c, err := w.Abort(ctx, op, f.force)
		if err != nil {
			return true, fmt.Errorf("%s --abort: %w", op, err)
		}
		if !g.quiet {
			fmt.Fprintf(g.stdout, "HEAD is now at %s %s\n", shortID(c.ID), pathquote.Text(firstLine(c.Message())))
		}
		return true, nil
	case f.skip:
		out, err := w.Skip(ctx, op, f.force)
		return true, report(g, op, out, err)
	default:
		mt, err := layerMtimes()
		if err != nil {
			return true, err
		}
		out, err := w.Continue(ctx, worktree.ContinueOptions{Op: op, Mtime: mt, KeepMarkers: f.force, Force: f.force})
		return true, report(g, op, out, err)
	}
}

// report prints how an operation ended, or why it stopped; with -q
// (g.quiet) only why it stopped.
func report(g *globals, op string, out *worktree.Outcome, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if out.Conflicts != nil {
		for _, c := range out.Conflicts.Paths {
			fmt.Fprintf(g.stdout, "CONFLICT (%s): %s", c.Kind, pathquote.Quote(c.Path))
			if c.Detail != "" {
				fmt.Fprintf(g.stdout, " (%s)", c.Detail)
			}
			fmt.Fprintln(g.stdout)
		}
		// Config values come from the images: escaped as show prints them.
		for _, c := range out.Conflicts.ConfigConflicts {
			fmt.Fprintf(g.stdout, "CONFLICT (config): %s\n", oneLine(c))
		}
		return fmt.Errorf("%s: %w", op, out.Conflicts)
	}
	picked := !out.UpToDate && !out.FastFwd && op != "rebase" && op != "merge"
	if picked && len(out.Made) == 0 && len(out.Seq.Skipped) == 0 {
		return fmt.Errorf("%s: %s changes nothing on top of HEAD: no commit made", op, out.Seq.Name)
	}
	if g.quiet {
		return nil
	}
	switch {
	case out.UpToDate:
		fmt.Fprintln(g.stdout, "Already up to date.")
		return nil
	case out.FastFwd:
		// git's: "Updating a..b", "Fast-forward".
		fmt.Fprintf(g.stdout, "Updating %s..%s\nFast-forward\n", shortID(out.Seq.OrigHead), shortID(out.Head.ID))
		return nil
	case op == "rebase":
		s := out.Seq
		fmt.Fprintf(g.stdout, "Rebased %s onto %s: %s reused, %d written", plural(s.Total, "commit"), s.Name, plural(s.Reused, "layer"), s.Written)
		if len(s.Dropped) > 0 {
			fmt.Fprintf(g.stdout, ", %d dropped (already applied)", len(s.Dropped))
		}
		if len(s.Skipped) > 0 {
			fmt.Fprintf(g.stdout, ", %d skipped", len(s.Skipped))
		}
		if s.Merges > 0 {
			fmt.Fprintf(g.stdout, ", %s left out (a rebase linearises)", plural(s.Merges, "merge commit"))
		}
		fmt.Fprintln(g.stdout)
	case op == "merge":
		fmt.Fprintf(g.stdout, "Merge made: %s\n", pathquote.Text(out.Seq.Message))
	case picked:
		for _, c := range out.Made {
			fmt.Fprintf(g.stdout, "[%s %s] %s\n", headName(out.Seq.Branch), shortID(c.ID), pathquote.Text(firstLine(c.Message())))
		}
		if n := len(out.Seq.Dropped); n > 0 {
			fmt.Fprintf(g.stdout, "%s dropped: %s changes nothing on top of HEAD\n", plural(n, "commit"), map[bool]string{true: "its", false: "their"}[n == 1])
		}
		if n := len(out.Seq.Skipped); n > 0 {
			fmt.Fprintf(g.stdout, "%s skipped\n", plural(n, "commit"))
		}
		return nil
	}
	fmt.Fprintf(g.stdout, "[%s %s] %s\n", headName(out.Seq.Branch), shortID(out.Head.ID), pathquote.Text(firstLine(out.Head.Message())))
	return nil
}

// headName is what git puts before a new commit's id: the branch, or
// "detached HEAD".
func headName(branch string) string {
	if branch == "" {
		return "detached HEAD"
	}
	return refs.ShortName(branch)
}

func newMergeCommand(g *globals) *cobra.Command {
	var f seqFlags
	var o worktree.MergeOptions
	var stat mergeStat
	cmd := &cobra.Command{
		Use:   "merge [--no-ff | --ff-only] [--allow-unrelated-histories] [--[no-]stat] [-m MSG] REV... | --continue | --abort",
		Short: "Merge a branch or revision into HEAD",
		Long: `Merge REV into HEAD. When HEAD is an ancestor of REV, HEAD's branch just
moves forward (fast-forward; --no-ff makes a merge commit anyway). Else
a merge commit is made with two parents (dev.strata.merge-parent names
the second): its layers are HEAD's plus one new layer holding REV's
changes since the merge base. The image config is merged too. A merge
commit is dated $SOURCE_DATE_EPOCH when it is set (the same merge gives
the same commit id), else now; so is a revert.
REV "-" is the branch checked out before, as git's @{-1}. REV FETCH_HEAD
is, as git's, what the last fetch got for merge: the lines of
.strata/FETCH_HEAD not marked not-for-merge (none, or only commits HEAD
has: already up to date; several: as several REVs), the merge named by
that line ("Merge branch 'main' of URL").

Several REVs are git's octopus: heads HEAD has, and heads another one
has, drop out first; one left is merged as above. Two left that both
hold HEAD: HEAD's branch moves to the first ("Fast-forwarding to: a"),
the second is merged into it ("Trying simple merge with b"), and the
commit's parents are the two heads ("Merge branches 'a' and 'b'"). A
merge that needs a commit of more than two parents (HEAD and two
heads, --no-ff, three heads) is refused: a strata commit has two.

Conflicts are found per path from the file indexes. When there are
some, the merge stops: the work tree shows HEAD with REV's clean changes
and, in text files both sides changed, conflict markers. 'strata status'
lists the conflicts; fix them, then 'strata merge --continue' (or
'strata commit', with --change for config conflicts), or give up with
'strata merge --abort', which puts back refs, reflogs and the work tree.

A fast-forward or a merge commit is followed, as git's, by a diffstat
of what it brought (diff --stat --summary from HEAD before to after),
unless -q, --no-stat (-n) or config merge.stat false; --stat prints it
whatever merge.stat says.

A merge with uncommitted changes is refused, listing them. So is one of
histories with no commit in common (as git's), unless
--allow-unrelated-histories: then both sides' files count as added to an
empty tree, and a path both hold with different content conflicts.

Exit status: 0 on success, 1 on errors and conflicts, 2 on usage errors.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if done, err := f.control(cmd, g, "merge", args); done {
				return err
			}
			if len(args) == 0 {
				return usagef("merge: name the revision to merge")
			}
			if o.NoFF && o.FFOnly {
				return usagef("merge: --no-ff and --ff-only exclude each other")
			}
			_, w, err := openWorktree(g, "")
			if err != nil {
				return err
			}
			if err := stat.resolve(w.Repo); err != nil {
				return fmt.Errorf("merge: %w", err)
			}
			if !f.force {
				if err := w.RefuseWhileRunning(); err != nil {
					return fmt.Errorf("merge: %w", err)
				}
			}
			for i := range args {
				if args[i], err = previousCheckout(w, args[i]); err != nil {
					return fmt.Errorf("merge: %w", err)
				}
			}
			o.Rev, o.Also = args[0], args[1:]
			o.Force = f.force
			out, err := w.Merge(cmd.Context(), o)
			if errors.Is(err, worktree.ErrNotFastForward) {
				return fmt.Errorf("merge: %w: HEAD and %s have diverged (drop --ff-only to make a merge commit)", err, strings.Join(args, ", "))
			}
			if err == nil && out.Seq != nil && len(out.Seq.Heads) > 0 {
				// git's octopus strategy says what it does, even with -q.
				fmt.Fprintf(g.stdout, "Fast-forwarding to: %s\nTrying simple merge with %s\n", pathquote.Text(out.Seq.Heads[0]), pathquote.Text(out.Seq.Heads[1]))
				if out.Conflicts != nil {
					fmt.Fprintln(g.stdout, "Simple merge did not work, trying automatic merge.")
				}
			}
			if err := report(g, "merge", out, err); err != nil || g.quiet || out.UpToDate {
				return err
			}
			// git's: what the fast-forward or the merge commit brought.
			return stat.print(cmd.Context(), g.stdout, w, out.Seq.OrigHead, out.Head.ID)
		},
	}
	f.add(g, cmd, false)
	stat.add(cmd)
	cmd.Flags().BoolVar(&o.NoFF, "no-ff", false, "make a merge commit even when a fast-forward would do")
	cmd.Flags().BoolVar(&o.FFOnly, "ff-only", false, "refuse unless a fast-forward will do")
	cmd.Flags().BoolVar(&o.AllowUnrelated, "allow-unrelated-histories", false, "merge histories with no commit in common, as if both grew from an empty tree")
	cmd.Flags().StringVarP(&o.Message, "message", "m", "", "the merge commit's message")
	return cmd
}

func newCherryPickCommand(g *globals) *cobra.Command {
	return replayCommand(g, "cherry-pick", "Apply the changes of commits on top of HEAD",
		`For each REV, in order, make a new commit on top of HEAD with the change
REV made to its parent, and REV's message, author and date. A range
A..B stands for the commits B has and A lacks, oldest first:

  strata cherry-pick fix                  # one commit
  strata cherry-pick main~3..main feat    # three, then feat

When nothing since touched what REV changed, the new commit reuses REV's
layer blob as it is: only a new config and manifest are written (and a
later push uploads no layer). HEAD's branch moves once, at the end.

Conflicts stop it as merge's do: fix them, then 'strata cherry-pick
--continue' (the commits left follow), 'strata cherry-pick --skip' (drop
that commit, go on with the rest), or 'strata cherry-pick --abort'.`,
		func(cmd *cobra.Command, w *worktree.Worktree, o worktree.ReplayOptions) (*worktree.Outcome, error) {
			return w.CherryPick(cmd.Context(), o)
		})
}

func newRevertCommand(g *globals) *cobra.Command {
	return replayCommand(g, "revert", "Make new commits that undo commits",
		`For each REV, in order, make a new commit on top of HEAD that undoes what
REV changed to its parent (a 3-way merge of REV's parent into HEAD over
REV), files and image config. A range A..B is undone newest first, as
git's revert does. Conflicts stop it as merge's do: fix them, then
'strata revert --continue', 'strata revert --skip' (drop that commit, go
on with the rest), or 'strata revert --abort'.`,
		func(cmd *cobra.Command, w *worktree.Worktree, o worktree.ReplayOptions) (*worktree.Outcome, error) {
			return w.Revert(cmd.Context(), o)
		})
}

func replayCommand(g *globals, op, short, long string, run func(*cobra.Command, *worktree.Worktree, worktree.ReplayOptions) (*worktree.Outcome, error)) *cobra.Command {
	var f seqFlags
	var mainline int
	cmd := &cobra.Command{
		Use:   op + " [-m N] REV... | --continue | --skip | --abort",
		Short: short,
		Long: long + `

A merge commit has two parents, so its change must be taken relative to
one: -m 1 (the branch it was made on) or -m 2 (the branch merged in).
Without -m a merge is refused, as git refuses it; with -m any other
commit is refused, and so is a range. REV "-" is the branch checked out
before, as git's @{-1}.` + "\n\nExit status: 0 on success, 1 on errors and conflicts, 2 on usage errors.",
		RunE: func(cmd *cobra.Command, args []string) error {
			if done, err := f.control(cmd, g, op, args); done {
				return err
			}
			if len(args) == 0 {
				return usagef("%s: name the commit", op)
			}
			_, w, err := openWorktree(g, "")
			if err != nil {
				return err
			}
			if !f.force {
				if err := w.RefuseWhileRunning(); err != nil {
					return fmt.Errorf("%s: %w", op, err)
				}
			}
			if cmd.Flags().Changed("mainline") && mainline < 1 {
				return usagef("%s: -m takes a parent number, 1 or 2", op)
			}
			for i := range args {
				if args[i], err = previousCheckout(w, args[i]); err != nil {
					return fmt.Errorf("%s: %w", op, err)
				}
			}
			out, err := run(cmd, w, worktree.ReplayOptions{Revs: args, Mainline: mainline, Force: f.force})
			return report(g, op, out, err)
		},
	}
	f.add(g, cmd, true)
	cmd.Flags().IntVarP(&mainline, "mainline", "m", 0, "for a merge commit: take its change relative to parent `N` (1 or 2)")
	return cmd
}

func newRebaseCommand(g *globals) *cobra.Command {
	var f seqFlags
	var onto string
	var interactive bool
	cmd := &cobra.Command{
		Use:   "rebase [--onto NEW] UPSTREAM [BRANCH] | --continue | --skip | --abort",
		Short: "Replay a branch's commits onto a new base",
		Long: `Replay the commits of BRANCH (default: HEAD's branch; named, it is checked
out first) that UPSTREAM lacks onto UPSTREAM, or onto NEW with --onto:

  strata rebase base                                 # this branch onto base
  strata rebase --onto debian-12.8 debian-12.7 app   # app, from the old base to the new

A replayed commit whose change does not conflict with the new base keeps
its layer blob as it is: only a new config and manifest are written, so a
later push uploads no layer for it. Commits whose change is already in
the new base are dropped (a commit empty from the start is kept).

UPSTREAM "-" is the branch checked out before, as git's @{-1}.
A rebase linearises, as git's does by default: the commits UPSTREAM
lacks are found through both parents of a merge and replayed oldest
first (a merge's first-parent line before its second), and the merge
commits themselves are left out; the output counts them. A branch with
merges is linearised even when UPSTREAM is already in its history. A conflict a
merge resolved comes back when its sides are replayed one after the other.

HEAD's branch moves once, at the end. A conflict stops the rebase with the
work tree on the new base so far, the commit's clean changes applied and
conflict markers written: fix them, then 'strata rebase --continue'; or
'strata rebase --skip' to drop that commit; or 'strata rebase --abort' to
put back refs, reflogs and the work tree. A rebase killed at any point
can be continued or aborted.

There is no interactive rebase (-i): 'strata reset --soft UPSTREAM' then
'strata commit' squashes the commits since UPSTREAM into one layer, and
'strata cherry-pick' replays commits in the order named.

Exit status: 0 on success, 1 on errors and conflicts, 2 on usage errors.`,
		Args: rangeArgs(0, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if interactive {
				return usagef("rebase: -i: strata has no interactive rebase: 'strata reset --soft UPSTREAM' then 'strata commit' squashes, 'strata cherry-pick' reorders")
			}
			if done, err := f.control(cmd, g, "rebase", args); done {
				return err
			}
			if len(args) == 0 {
				return usagef("rebase: name the upstream to rebase onto")
			}
			o := worktree.RebaseOptions{Upstream: args[0], Onto: onto, Force: f.force}
			if len(args) == 2 {
				o.Branch = args[1]
			}
			_, w, err := openWorktree(g, "")
			if err != nil {
				return err
			}
			if !f.force {
				if err := w.RefuseWhileRunning(); err != nil {
					return fmt.Errorf("rebase: %w", err)
				}
			}
			if o.Upstream, err = previousCheckout(w, o.Upstream); err != nil {
				return fmt.Errorf("rebase: %w", err)
			}
			out, err := w.Rebase(cmd.Context(), o)
			return report(g, "rebase", out, err)
		},
	}
	f.add(g, cmd, true)
	cmd.Flags().StringVar(&onto, "onto", "", "replay onto `NEW` instead of UPSTREAM")
	// Only to say what to do instead: git users type it.
	cmd.Flags().BoolVarP(&interactive, "interactive", "i", false, "")
	cmd.Flags().MarkHidden("interactive")
	return cmd
}
