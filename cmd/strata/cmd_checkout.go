package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/internal/treepath"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/worktree"
)

func init() { register("checkout", newCheckoutCommand) }

type checkoutFlags struct {
	newBranch string
	resetTo   string // -B: create or move this branch
	detach    bool
	force     bool
	merge     bool // -m, --merge: merge changes the switch would overwrite
	// ours, theirs: checkout --ours/--theirs -- PATH, restore's.
	ours, theirs bool
	// ignoreOther checks out a branch another work tree has, keeping the
	// changes (git's --ignore-other-worktrees).
	ignoreOther bool
	path        string
	quiet       bool
	// branchOnly: REV must be a branch unless a new one is made or HEAD
	// detached, and a stopped merge or rebase is refused (switch).
	branchOnly bool
	track      string // -t, --track[=MODE], --no-track: trackDirect, trackInherit, trackNever
	guess      bool   // --guess, --no-guess (guessEnabled)
}

func newCheckoutCommand(g *globals) *cobra.Command {
	var o checkoutFlags
	cmd := &cobra.Command{
		Use:   "checkout [-b|-B NEW] [-t|--no-track] [--detach] [--force] [--path DIR] [REV] | [REV] -- PATH...",
		Short: "Mount a revision as the work tree",
		Long: `Mount REV (default HEAD) at <project>/rootfs as an overlay: the revision's
layers, unpacked once into .strata/snapshots, are its read-only lowers, and
every change lands in .strata/worktree/upper until it is committed.

  strata checkout main              # attach HEAD to branch main
  strata checkout v1                # any other revision detaches HEAD
  strata checkout -b feature v1     # new branch at v1 (default HEAD)
  strata checkout -B feature v2     # the same, or move feature to v2 if it exists
  strata checkout --track origin/dev   # new branch dev at origin/dev, its upstream
  strata checkout -                 # back to the branch (or commit) before: git's @{-1}
  strata checkout main~3 -- /etc/motd   # restore one file from a revision (see restore)
  strata checkout --path /srv/envs/env2 dev   # a second work tree elsewhere

A new branch (-b, -B) gets an upstream as branch's does
(branch.autoSetupMerge: from a remote-tracking REV by default); -t,
--track makes REV its upstream whatever the config says, a local branch
too, and refuses a REV that is no branch; --track=inherit copies REV's
own upstream; --no-track sets none. Without -b or -B, --track
REMOTE/BRANCH (or --no-track) makes BRANCH, as git's.

A REV that resolves as no revision at all, dev, but names one remote's
branch (origin/dev) makes branch dev there, with that upstream, as
git's guess does: "branch 'dev' set up to track 'origin/dev'.". Two
remotes with a dev is an error, unless config checkout.defaultRemote
names one of them, and so is a dev that is also a file of the work tree;
--no-guess, or config checkout.guess false, guesses nothing (--guess
takes that back).

Uncommitted changes are carried to the other commit, as git's checkout
carries them, when it differs from this one nowhere they are (nor in a
directory above one); otherwise the switch is refused, naming the
changes it would overwrite, unless --force, which discards them all (on
the same commit too, as git's checkout -f). The changes carried are
listed on stdout, as git's ("M<TAB>/etc/motd"). Changes are not carried
while a merge or rebase is stopped there: then any change refuses the
switch.
With -m (--merge), a change to a file the switch changes too is merged
with the other commit's file, three ways (the base: this commit's file),
as git's checkout -m (or by the merge.<pattern>.driver the config names
for it, as git's runs a merge driver): a clean merge is carried as a
change, and the file takes the mode either side gave it. A conflict completes the
switch too (exit 0), with git's markers in the file ("<<<<<<< REV"
above REV's lines, ">>>>>>> local" below yours), and the path unmerged
until a commit: status shows it (UU), a switch or stash is refused,
and commit refuses while the markers are left; reset --hard,
checkout --force or restore --source HEAD PATH discards it (restore
without --source refuses it, as git's). A changed file that REV
deletes is kept, unmerged ("deleted by us", DU): commit refuses it until
it is written again (touch) or deleted. A binary file (without a
driver), a type change, a
file deleted here that REV changes, a file added on both sides, a file
over 8 MiB, with several links, with xattrs REV changes or with mode or
owner changed on both sides still refuses the switch, naming each and
why ("M /etc/x (binary)"): where git's checkout -m completes, it keeps
the local version only in its index. -m and --force exclude each other.
checkout -m -- PATH (git's recreated conflict) is refused; checkout -m
REV -- PATH is checkout REV -- PATH, as git's.
After a switch to a branch with an upstream (or --detach BRANCH), how
the two stand is said on stdout, as git's "Your branch is up to date
with 'origin/main'.".
A switch to another commit
ends a merge, cherry-pick or revert in progress, as git's checkout does;
a rebase stays in progress. Paths excluded by
.strata/info/exclude or /.strataignore are kept across switches, but
where the other commit has the path.

Exit status: 0 on success, 1 on errors, 2 on usage errors.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if o.ours || o.theirs {
				return sideArgs(cmd, args)
			}
			if n := cmd.ArgsLenAtDash(); n >= 0 {
				if len(args) == n {
					return usagef("checkout: name the PATHs to restore after --")
				}
				args = args[:n]
			} else if len(args) > 1 {
				// git takes "checkout REV PATH"; strata wants the --.
				return usagef("checkout: one REV at most; to restore PATHs from it, name them after --: 'strata checkout REV -- PATH...'")
			}
			return rangeArgs(0, 1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.ours || o.theirs {
				return runCheckoutSide(cmd, g, o, args)
			}
			if n := cmd.ArgsLenAtDash(); n >= 0 {
				// git's checkout [REV] -- PATH: restore, HEAD stays.
				if o.newBranch != "" || o.resetTo != "" || o.detach || o.force || o.track != trackUnset {
					return usagef("checkout -- PATH: -b, -B, --detach, --force, --track and --no-track do not apply to restoring paths")
				}
				if o.merge && n == 0 {
					// git's recreates a conflicted merge there; from a
					// REV, its -m changes nothing.
					return usagef("checkout -m -- PATH: recreating a conflicted merge is not supported; 'strata restore --ours PATH' or '--theirs PATH' takes one side of a stopped merge")
				}
				rev := "" // what the work tree's changes are against
				if n == 1 {
					rev = args[0]
				}
				return runRestore(cmd, g, o.path, rev, args[n:], o.quiet)
			}
			rev := ""
			if len(args) == 1 {
				rev = args[0]
			}
			if err := excludeEachOther(cmd, "branch", "force-branch", "detach"); err != nil {
				return err
			}
			if err := excludeEachOther(cmd, "force", "merge"); err != nil {
				return err
			}
			return runCheckout(cmd, g, o, rev)
		},
	}
	cmd.Flags().StringVarP(&o.newBranch, "branch", "b", "", "create branch `NEW` at REV and switch to it")
	cmd.Flags().StringVarP(&o.resetTo, "force-branch", "B", "", "as -b, but move branch `NEW` to REV if it exists")
	cmd.Flags().BoolVar(&o.detach, "detach", false, "detach HEAD even if REV is a branch")
	cmd.Flags().BoolVarP(&o.force, "force", "f", false, "discard uncommitted changes; mount over a non-empty directory; swap the mount while processes use it")
	cmd.Flags().BoolVarP(&o.merge, "merge", "m", false, "merge the changes the switch would overwrite with the other commit's files, as git's")
	cmd.Flags().BoolVar(&o.ours, "ours", false, "restore the PATHs a merge or checkout -m left unmerged as our side has them (restore --ours)")
	cmd.Flags().BoolVar(&o.theirs, "theirs", false, "restore the PATHs a merge left unmerged as their side has them (restore --theirs)")
	cmd.Flags().BoolVar(&o.ignoreOther, "ignore-other-worktrees", false, "check out a branch another work tree has, keeping the changes here")
	cmd.Flags().StringVar(&o.path, "path", "", "check out in `DIR`, a second work tree, instead of <project>/rootfs")
	cmd.Flags().BoolVarP(&o.quiet, "quiet", "q", false, "print nothing but errors")
	addTrackFlags(cmd.Flags(), &o.track, "the new branch (-b, -B, or the one --track names)")
	addGuessFlags(cmd.Flags(), &o.guess)
	return cmd
}

// runCheckout switches the work tree o names to rev (checkout, switch).
func runCheckout(cmd *cobra.Command, g *globals, o checkoutFlags, rev string) error {
	newBranch, reset := o.newBranch, false
	if o.resetTo != "" {
		newBranch, reset = o.resetTo, true
	}
	r, w, err := openWorktree(g, o.path)
	if err != nil {
		return err
	}
	if rev, err = previousCheckout(w, rev); err != nil {
		return fmt.Errorf("%s: %w", cmd.Name(), err)
	}
	flag := "-b" // the flag that named newBranch, for messages
	switch {
	case o.branchOnly && reset:
		flag = "--force-create"
	case o.branchOnly:
		flag = "-c"
	case reset:
		flag = "-B"
	}
	what := "" // the command and the new branch, for messages
	if newBranch != "" {
		what = cmd.Name() + " " + flag + " " + newBranch
	}
	if newBranch == "" {
		var start string
		if newBranch, start, what, err = impliedBranch(cmd, r, o, rev, func(name string) bool { return inWorktree(g, r, w.Target(), name) }); err != nil {
			return err
		}
		if newBranch != "" {
			rev = start
		}
	}
	if o.branchOnly && newBranch == "" && !o.detach && rev != "" && !r.Refs.Exists(refs.Heads+rev) {
		if _, err := w.Resolve(rev); err != nil {
			return fmt.Errorf("%s: invalid reference: %w", cmd.Name(), err)
		}
		return fmt.Errorf("%s: a branch is expected, got %s; to look at a commit, use --detach", cmd.Name(), pathquote.Quote(rev))
	}
	if o.quiet {
		// Feedback goes (the commits a detached HEAD leaves
		// behind too, as git's -q); errors are printed by run
		// to the stderr it holds.
		g.stdout, g.stderr = io.Discard, io.Discard
	}
	before, _ := w.Head()
	mountedBefore := w.Mounted()
	how := branchKept
	if newBranch != "" {
		how = branchCreated
		if reset && r.Refs.Exists(refs.Heads+newBranch) {
			how = branchReset
		}
	}
	if newBranch != "" {
		// A name that cannot be a branch is a usage error, as branch's.
		if err := refs.CheckName(refs.Heads + newBranch); err != nil {
			return usagef("%s: %w", what, err)
		}
	}
	var track trackPlan // the new branch's upstream
	if newBranch != "" {
		start := rev
		if start == "" {
			start = refs.HEAD
		}
		if track, err = flagTracking(r, what, start, o.track); err != nil {
			return err
		}
	}
	c, err := w.Checkout(cmd.Context(), worktree.CheckoutOptions{Rev: rev, NewBranch: newBranch, ResetBranch: reset, BranchFlag: flag, Detach: o.detach, Force: o.force, Merge: o.merge, RefuseStopped: o.branchOnly, IgnoreOtherWorktrees: o.ignoreOther})
	var dirty *worktree.DirtyError
	if o.branchOnly && errors.As(err, &dirty) {
		dirty.Flag = "--discard-changes" // switch's name for --force
	}
	var unmerged *worktree.UnmergedError
	if o.branchOnly && errors.As(err, &unmerged) {
		unmerged.Flag, unmerged.Verb = "--discard-changes", "switch"
	}
	var elsewhere *worktree.CheckedOutError
	if errors.As(err, &elsewhere) {
		// --force would do it too, and discard this tree's changes.
		return fmt.Errorf("%w; use --ignore-other-worktrees to check it out here too", err)
	}
	if err != nil && errors.Is(err, refs.ErrUnknownRevision) && rev != "" && inWorktree(g, r, w.Target(), rev) {
		// git's "checkout FILE" restores it; strata names it a revision.
		return fmt.Errorf("%w; to restore the file, use 'strata restore %s'", err, pathquote.Quote(rev))
	}
	if err != nil {
		return err
	}
	if newBranch != "" {
		if err := setupTracking(g, r, what, newBranch, track); err != nil {
			return err
		}
	}
	if before.Detached() && c != nil {
		if err := warnLeftBehind(g.stderr, r, before.Commit, c.ID); err != nil {
			return err
		}
	}
	if how == branchKept && mountedBefore && before.Branch != "" {
		if h, err := w.Head(); err == nil && h.Branch == before.Branch && h.Commit == before.Commit {
			how = branchAlready
		}
	}
	// git's checkout -b leaves the work tree alone on the same commit,
	// and says nothing of its changes; --force discarded them.
	if !o.quiet && !o.force && !(how == branchCreated && c != nil && c.ID == before.Commit) {
		if err := printCarried(cmd, g, w); err != nil {
			return err
		}
	}
	if err := printHeadMoved(g, r, w, c, how); err != nil {
		return err
	}
	if how != branchKept && how != branchAlready {
		return nil
	}
	branch := ""
	if o.detach && rev != "" && r.Refs.Exists(refs.Heads+rev) {
		branch = refs.Heads + rev // git's checkout --detach BRANCH speaks of it too
	}
	return reportTracking(g, r, w, branch)
}

// printCarried lists on stdout the uncommitted changes a switch kept, as
// git's checkout does ("M\t/etc/motd"), in diff --name-status's form.
func printCarried(cmd *cobra.Command, g *globals, w *worktree.Worktree) error {
	changes, err := w.Status(cmd.Context())
	if err != nil {
		return err
	}
	for _, c := range changes {
		fmt.Fprintf(g.stdout, "%c\t%s\n", c.Kind, pathquote.Quote(c.Path))
	}
	return nil
}

// reportTracking says on stdout how the branch now checked out stands
// against its upstream, as git's checkout and switch do after a switch
// to an existing branch (not to a new one). branch, if set, is the one
// to speak of: a detached HEAD's, which git's --detach BRANCH names.
func reportTracking(g *globals, r *repo.Repo, w *worktree.Worktree, branch string) error {
	h, err := w.Head()
	if err != nil {
		return err
	}
	at := h.Commit
	if branch == "" {
		branch = h.Branch
	} else if at, err = r.Refs.Read(branch); err != nil {
		return err
	}
	if branch == "" {
		return nil
	}
	t, err := trackingOf(r, branch, at)
	if err != nil || t == nil {
		return err
	}
	t.printLong(g.stdout)
	return nil
}

// previousCheckout reads git's "-" and "@{-N}" as what HEAD was on
// before the last or the Nth last checkout; other revisions stay.
func previousCheckout(w *worktree.Worktree, rev string) (string, error) {
	n := 0
	if rev == "-" {
		n = 1
	} else if s, ok := strings.CutPrefix(rev, "@{-"); ok && strings.HasSuffix(s, "}") {
		k, err := strconv.Atoi(strings.TrimSuffix(s, "}"))
		if err != nil || k < 1 {
			return "", fmt.Errorf("%s: %w", rev, refs.ErrUnknownRevision)
		}
		n = k
	}
	if n == 0 {
		return rev, nil
	}
	prev, err := w.PreviousCheckout(n)
	if err != nil {
		return "", fmt.Errorf("%s: %w", rev, err)
	}
	return prev, nil
}

// What a switch did to the branch it names, for printHeadMoved.
const (
	branchKept    = iota // an existing branch, or none
	branchCreated        // -b, or -B of a new name
	branchReset          // -B of an existing branch
	branchAlready        // the branch HEAD was on, mounted already
)

// printHeadMoved says where HEAD is now, as git does: on stderr, as
// git's checkout and switch say it.
func printHeadMoved(g *globals, r *repo.Repo, w *worktree.Worktree, c *objects.Commit, how int) error {
	h, err := w.Head()
	if err != nil {
		return err
	}
	where := w.Target()
	if rel, err := filepath.Rel(r.Dir, where); err == nil && !strings.HasPrefix(rel, "..") {
		where = rel
	}
	where = pathquote.Quote(where) // a state handed over may name any bytes
	switch {
	case h.Branch != "" && how == branchCreated:
		fmt.Fprintf(g.stderr, "Switched to a new branch '%s' in %s\n", pathquote.Text(refs.ShortName(h.Branch)), where)
	case h.Branch != "" && how == branchAlready:
		fmt.Fprintf(g.stderr, "Already on '%s' in %s\n", pathquote.Text(refs.ShortName(h.Branch)), where)
	case h.Branch != "" && how == branchReset:
		fmt.Fprintf(g.stderr, "Switched to and reset branch '%s' in %s\n", pathquote.Text(refs.ShortName(h.Branch)), where)
	case h.Branch != "":
		fmt.Fprintf(g.stderr, "Switched to branch '%s' in %s\n", pathquote.Text(refs.ShortName(h.Branch)), where)
	case c != nil:
		fmt.Fprintf(g.stderr, "HEAD is now at %s %s in %s\n", shortID(c.ID), pathquote.Text(firstLine(c.Message())), where)
	}
	return nil
}

// openWorktree finds the repository and the work tree a command acts on:
// the one at --path if given, else an extra work tree mounted at or above
// the current directory (or -C), else the project's main work tree.
func openWorktree(g *globals, path string) (*repo.Repo, *worktree.Worktree, error) {
	start := g.chdir
	if start == "" {
		start = "."
	}
	abs, err := filepath.Abs(start)
	if err != nil {
		return nil, nil, err
	}
	if path == "" {
		if project, name, ok := worktree.FindByMount(abs); ok {
			r, err := repo.Open(project)
			if err != nil {
				return nil, nil, err
			}
			g.warnBrokenRefs(r)
			w, err := worktree.Named(r, name)
			if err == nil {
				w.Link()
			}
			return r, w, err
		}
	}
	r, err := g.openRepo()
	if err != nil {
		return nil, nil, err
	}
	if path == "" {
		return r, worktree.Main(r), nil
	}
	// A path through a work tree's links is the container's (treepath.Path):
	// rootfs/wt/x, with wt -> /srv, is no place to mount a tree on the host.
	// It is taken as resolved: a link swapped in since is not followed.
	forPath := worktree.ForPath
	if real, inTree, err := treepath.Path(path, true); err != nil {
		return nil, nil, err
	} else if inTree {
		path, forPath = real, worktree.ForResolvedPath
	}
	w, err := forPath(r, path)
	if err == nil {
		w.Link() // HEAD is the one of the work tree acted on
	}
	return r, w, err
}

// openCheckedOut is openWorktree for the commands that act on a work
// tree that exists (restore, umount, run): a --path DIR that is no work
// tree is an error that says so, and leaves nothing behind (the work
// tree's lock would make .strata/worktrees/NAME, which then took the
// name from the next worktree add there).
func openCheckedOut(g *globals, path string) (*repo.Repo, *worktree.Worktree, error) {
	r, w, err := openWorktree(g, path)
	if err != nil || path == "" || w.Name == worktree.MainName {
		return r, w, err
	}
	_, ok, err := w.State()
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, fmt.Errorf("%s: not a work tree; 'strata worktree add %s' makes one", pathquote.Quote(path), pathquote.Quote(path))
	}
	return r, w, nil
}

// excludeEachOther is a usage error when more than one of the flags
// names was given: "-b and -B exclude each other" (the dispatcher names
// the command).
func excludeEachOther(cmd *cobra.Command, names ...string) error {
	var given []string
	for _, n := range names {
		if f := cmd.Flags().Lookup(n); f != nil && f.Changed {
			if f.Shorthand != "" {
				given = append(given, "-"+f.Shorthand)
			} else {
				given = append(given, "--"+n)
			}
		}
	}
	if len(given) > 1 {
		return usagef("%s exclude each other", strings.Join(given, " and "))
	}
	return nil
}
