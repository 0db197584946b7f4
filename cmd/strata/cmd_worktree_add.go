package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/opencontainers/go-digest"
	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/worktree"
)

// newWorktreeAddCommand is worktree add: REV checked out in a new work
// tree.
func newWorktreeAddCommand(g *globals) *cobra.Command {
	var force, detach, addQuiet, addLock, track, noTrack, guessRemote, noGuessRemote bool
	var newBranch, resetBranch, addReason string
	add := &cobra.Command{
		Use:   "add [-b NEW | -B NEW | --detach] [--track | --no-track] [--[no-]guess-remote] [--force] [-q] [--lock [--reason R]] PATH [REV]",
		Short: "Check out REV in a new work tree at PATH (default: a new branch named after PATH)",
		Long: `Check out REV in a new work tree at PATH (default: a new branch named
after PATH's base name, made at HEAD if it does not exist). A REV that
resolves as no revision, dev, but names one remote's branch
(origin/dev; checkout.defaultRemote's among several) makes branch dev
there, as git's guess. With --guess-remote or worktree.guessRemote
true, PATH alone whose base name is no branch, ../dev, makes branch dev
at the one remote's dev (origin/dev) the same way, not at HEAD, as
git's; --no-guess-remote turns it off.

A new branch (-b, -B, or the one named after PATH) gets an upstream as
branch's does, as git's: branch.autoSetupMerge says (by default, from a
remote-tracking REV: "branch 'fix' set up to track 'origin/main'.").
--track makes REV its upstream whatever the config says, a local branch
too (remote "."), and refuses a REV that is no branch; --no-track sets
none. Either without a new branch is a usage error.

As git's, it says "Preparing worktree (new branch 'x')" (or "resetting
branch 'x'; was at ID", "checking out 'x'", "detached HEAD ID") on
stderr, then "HEAD is now at ID SUBJECT" on stdout; -q neither.

Exit status: 0 on success, 1 on errors, 2 on usage errors.`,
		Args: rangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := excludeEachOther(cmd, "branch", "force-branch", "detach"); err != nil {
				return err
			}
			if args[0] == "" {
				return errEmptyPath
			}
			if addReason != "" && !addLock {
				return usagef("--reason requires --lock")
			}
			if len(addReason) > worktree.MaxLockReason {
				return usagef("--reason takes at most %d bytes", worktree.MaxLockReason)
			}
			flag := "-b"
			if resetBranch != "" {
				newBranch, flag = resetBranch, "-B"
			}
			rev := ""
			if len(args) == 2 {
				rev = args[1]
			}
			r, w, err := openWorktree(g, args[0])
			if err != nil {
				return err
			}
			if _, ok, _ := w.State(); ok {
				return fmt.Errorf("worktree add: %s is a work tree already", w.Target())
			}
			if newBranch == "" && !detach && rev != "" {
				// git's guess: PATH dev, dev only a remote's (origin/dev).
				if start, err := worktreeGuess(r, rev); err != nil {
					return err
				} else if start != "" {
					newBranch, rev, flag = rev, start, ""
				}
			}
			if newBranch == "" && !detach && rev == "" {
				// git's worktree.guessRemote: PATH ../dev, the same.
				if name, start, err := worktreeGuessPath(cmd, r, w, guessRemote); err != nil {
					return err
				} else if start != "" {
					newBranch, rev, flag = name, start, ""
				}
			}
			o, err := worktreeAddOptions(r, w, rev, newBranch, flag, detach)
			if err != nil {
				return err
			}
			o.Force = force
			plan, err := worktreeAddTracking(r, o, rev, track, noTrack)
			if err != nil {
				return err
			}
			how, wasAt := branchKept, digest.Digest("")
			if o.NewBranch != "" {
				how = branchCreated
				if o.ResetBranch && r.Refs.Exists(refs.Heads+o.NewBranch) {
					how = branchReset
					if wasAt, err = r.Refs.Read(refs.Heads + o.NewBranch); err != nil {
						return err
					}
				}
			}
			c, err := w.Checkout(cmd.Context(), o)
			var elsewhere *worktree.CheckedOutError
			if errors.As(err, &elsewhere) {
				return fmt.Errorf("%w; use --force to check it out here too", err) // a new tree: nothing to discard
			}
			if err != nil {
				return err
			}
			if addQuiet {
				g.stdout, g.stderr = io.Discard, io.Discard // errors are printed by run
			}
			if o.NewBranch != "" {
				if err := setupTracking(g, r, plan.what, o.NewBranch, plan.trackPlan); err != nil {
					return err
				}
			}
			if addLock {
				if err := w.Lock(cmd.Context(), addReason); err != nil {
					return err
				}
			}
			if addQuiet {
				return nil
			}
			return printWorktreeAdded(g, w, c, how, wasAt)
		},
	}
	add.Flags().StringVarP(&newBranch, "branch", "b", "", "create branch `NEW` at REV (default HEAD) and check it out")
	add.Flags().StringVarP(&resetBranch, "force-branch", "B", "", "as -b, or move branch `NEW` to REV if it exists")
	add.Flags().BoolVar(&detach, "detach", false, "detach HEAD at REV (default HEAD)")
	add.Flags().BoolVarP(&force, "force", "f", false, "check out a branch another work tree has too")
	add.Flags().BoolVarP(&addQuiet, "quiet", "q", false, "print nothing but errors")
	add.Flags().BoolVar(&addLock, "lock", false, "lock the new work tree (see worktree lock)")
	add.Flags().VarPF(lastWins{&track, &noTrack}, "track", "", "make REV the new branch's upstream, a local branch too (git's --track)").NoOptDefVal = "true"
	add.Flags().VarPF(lastWins{&noTrack, &track}, "no-track", "", "give the new branch no upstream, whatever branch.autoSetupMerge says").NoOptDefVal = "true"
	add.Flags().VarPF(lastWins{&guessRemote, &noGuessRemote}, "guess-remote", "", "PATH alone: make its branch at the remote-tracking branch of its name, if one remote has one (default: worktree.guessRemote)").NoOptDefVal = "true"
	add.Flags().VarPF(lastWins{&noGuessRemote, &guessRemote}, "no-guess-remote", "", "PATH alone: make its branch at HEAD, whatever worktree.guessRemote says").NoOptDefVal = "true"
	add.Flags().StringVar(&addReason, "reason", "", "with --lock: why it is locked (at most 8192 bytes)")
	return add
}

// worktreeAddOptions is what worktree add checks out, as git's: REV as
// given (a branch attaches), -b NEW at REV (flag -B: made or moved
// there), --detach at REV; with none of them, the branch named after
// PATH's base name, made at HEAD if new.
func worktreeAddOptions(r *repo.Repo, w *worktree.Worktree, rev, newBranch, flag string, detach bool) (worktree.CheckoutOptions, error) {
	if newBranch != "" {
		// A name that cannot be a branch is a usage error, as branch's.
		if err := refs.CheckName(refs.Heads + newBranch); err != nil {
			return worktree.CheckoutOptions{}, usagef("worktree add %s %s: %w", flag, newBranch, err)
		}
	}
	switch {
	case detach || newBranch != "":
		if rev == "" || rev == refs.HEAD || rev == "@" {
			// The commit of HEAD where the command runs (its branch stays there).
			c, err := r.Resolve(refs.HEAD)
			if err != nil {
				return worktree.CheckoutOptions{}, fmt.Errorf("worktree add: %w", err)
			}
			rev = c.ID.String()
		}
		return worktree.CheckoutOptions{Rev: rev, NewBranch: newBranch, ResetBranch: flag == "-B", BranchFlag: flag, Detach: detach}, nil
	case rev != "":
		return worktree.CheckoutOptions{Rev: rev}, nil
	}
	name := filepath.Base(w.Target())
	if err := refs.CheckName(refs.Heads + name); err != nil {
		return worktree.CheckoutOptions{}, usagef("worktree add: %s cannot name a branch (%v); give -b NAME or --detach", name, err)
	}
	if r.Refs.Exists(refs.Heads + name) {
		return worktree.CheckoutOptions{Rev: name}, nil
	}
	return worktree.CheckoutOptions{Rev: "HEAD", NewBranch: name}, nil
}

// addTracking is how worktree add's new branch gets its upstream, and
// the command as messages name it.
type addTracking struct {
	trackPlan
	what string
}

// worktreeAddTracking plans the upstream of the branch worktree add
// makes (o.NewBranch), from REV (default HEAD) as given, as git's
// worktree add passes --track or --no-track to branch: a usage error
// when it makes none.
func worktreeAddTracking(r *repo.Repo, o worktree.CheckoutOptions, rev string, track, noTrack bool) (addTracking, error) {
	if o.NewBranch == "" {
		if track || noTrack {
			return addTracking{}, usagef("worktree add: --track and --no-track can only be used if a new branch is created")
		}
		return addTracking{}, nil
	}
	what := "worktree add"
	if o.BranchFlag != "" {
		what += " " + o.BranchFlag + " " + o.NewBranch
	}
	if rev == "" {
		rev = refs.HEAD
	}
	mode := trackUnset
	switch {
	case track:
		mode = trackDirect
	case noTrack:
		mode = trackNever
	}
	p, err := flagTracking(r, what, rev, mode)
	return addTracking{trackPlan: p, what: what}, err
}

// worktreeGuess is the remote-tracking branch worktree add PATH REV
// makes branch REV from, as git's: when REV resolves as no revision and
// one remote has a branch of that name (checkout.defaultRemote's among
// several); "" for none, several being no error, as git's.
func worktreeGuess(r *repo.Repo, rev string) (string, error) {
	if rev == "" {
		return "", nil
	}
	if _, err := r.Resolve(rev); err == nil {
		return "", nil
	}
	full, _, err := guessRemoteBranch(r, rev)
	if err != nil {
		return "", fmt.Errorf("worktree add: %w", err)
	}
	return full, nil
}

// worktreeGuessPath is git's worktree.guessRemote (--guess-remote) for
// worktree add PATH with no REV: when PATH's base name, name, is no
// branch, the remote-tracking branch of that name one remote has
// (checkout.defaultRemote's among several) is where branch name is
// made, as git's dwim_branch; start is "" for no guess.
func worktreeGuessPath(cmd *cobra.Command, r *repo.Repo, w *worktree.Worktree, guess bool) (name, start string, err error) {
	if !cmd.Flags().Changed("guess-remote") && !cmd.Flags().Changed("no-guess-remote") {
		if guess, _, err = r.Config.Bool("worktree.guessRemote"); err != nil {
			return "", "", fmt.Errorf("worktree add: %w", err)
		}
	}
	name = filepath.Base(w.Target())
	if !guess || refs.CheckName(refs.Heads+name) != nil || r.Refs.Exists(refs.Heads+name) {
		return "", "", nil
	}
	start, _, err = guessRemoteBranch(r, name)
	if err != nil {
		return "", "", fmt.Errorf("worktree add: %w", err)
	}
	return name, start, nil
}

// printWorktreeAdded says what worktree add checked out, in git's
// words: "Preparing worktree (new branch 'x')" ("resetting branch 'x';
// was at ID", "checking out 'x'", "detached HEAD ID") on stderr, then
// its inner reset's "HEAD is now at ID SUBJECT" on stdout. wasAt is
// where a branch -B reset was.
func printWorktreeAdded(g *globals, w *worktree.Worktree, c *objects.Commit, how int, wasAt digest.Digest) error {
	h, err := w.Head()
	if err != nil {
		return err
	}
	branch := pathquote.Text(refs.ShortName(h.Branch))
	switch {
	case h.Branch != "" && how == branchCreated:
		fmt.Fprintf(g.stderr, "Preparing worktree (new branch '%s')\n", branch)
	case h.Branch != "" && how == branchReset:
		fmt.Fprintf(g.stderr, "Preparing worktree (resetting branch '%s'; was at %s)\n", branch, shortID(wasAt))
	case h.Branch != "":
		fmt.Fprintf(g.stderr, "Preparing worktree (checking out '%s')\n", branch)
	case c != nil:
		fmt.Fprintf(g.stderr, "Preparing worktree (detached HEAD %s)\n", shortID(c.ID))
	}
	if c != nil {
		fmt.Fprintf(g.stdout, "HEAD is now at %s %s\n", shortID(c.ID), pathquote.Text(firstLine(c.Message())))
	}
	return nil
}
