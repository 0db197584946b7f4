package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// git's remote-branch guess (checkout.guess, --guess): "checkout dev"
// and "switch dev", when dev resolves as no revision at all, make branch
// dev from the remote-tracking branch of the one remote that has a dev
// (origin/dev), which then becomes its upstream as branch.autoSetupMerge
// says. worktree add PATH dev guesses the same way, whatever the config.

// guessEnabled is whether checkout and switch guess: --guess or
// --no-guess as given, else config checkout.guess, else true.
func guessEnabled(cmd *cobra.Command, r *repo.Repo, guess bool) (bool, error) {
	if cmd.Flags().Changed("guess") || cmd.Flags().Changed("no-guess") {
		return guess, nil
	}
	v, set, err := r.Config.Bool("checkout.guess")
	if err != nil {
		return false, fmt.Errorf("%s: %w", cmd.Name(), err)
	}
	return v || !set, nil
}

// guessRemoteBranch is git's unique_tracking_name: the remote-tracking
// branch that some remote's fetch refspecs map its branch name to, if
// exactly one remote has one that exists, else the one of
// checkout.defaultRemote among them; n is how many remotes have one.
func guessRemoteBranch(r *repo.Repo, name string) (full string, n int, err error) {
	defaultRemote, _ := r.Config.Get("checkout.defaultRemote")
	var first, preferred string
	for _, rem := range r.Config.Subsections("remote") {
		specs, err := r.FetchRefspecs(rem)
		if err != nil {
			return "", 0, err
		}
		dst := refs.Tracking(specs, name, true)
		if dst == "" || !r.Refs.Exists(dst) {
			continue
		}
		n++
		if first == "" {
			first = dst
		}
		if rem == defaultRemote {
			preferred = dst
		}
	}
	if n == 1 {
		return first, n, nil
	}
	return preferred, n, nil
}

// guessNewBranch is the branch checkout or switch (what) makes of rev,
// and the remote-tracking branch it starts at, when rev resolves as no
// revision and git's guess finds one: "" when it guesses nothing. Names
// with glob characters are not guessed, as git's; two remotes or more
// with rev and no checkout.defaultRemote among them is git's error.
func guessNewBranch(r *repo.Repo, what, rev string) (start string, err error) {
	if rev == "" || strings.ContainsAny(rev, "*?[\\") {
		return "", nil
	}
	if _, err := r.Resolve(rev); err == nil {
		return "", nil // a revision keeps its meaning
	}
	full, n, err := guessRemoteBranch(r, rev)
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	if full == "" && n > 1 {
		return "", fmt.Errorf("%s: '%s' matched multiple (%d) remote tracking branches; name one with 'strata %s --track REMOTE/%s', or set checkout.defaultRemote to the remote to prefer", what, rev, n, what, rev)
	}
	return full, nil
}

// impliedBranch is the branch checkout or switch makes though no -b, -B,
// -c or --force-create names one, as git's: checkout --track
// REMOTE/BRANCH (or --no-track) makes BRANCH at it, and git's guess
// makes dev from origin/dev; start is where it is made, what names the
// command in messages. "" when there is none. isFile says whether a
// name is a file of the work tree: checkout refuses to guess one, as
// git's (switch, which takes no paths, does not).
func impliedBranch(cmd *cobra.Command, r *repo.Repo, o checkoutFlags, rev string, isFile func(string) bool) (name, start, what string, err error) {
	if o.track != trackUnset {
		if name, err = trackedBranch(cmd.Name(), rev, o); err != nil {
			return "", "", "", err
		}
		what = cmd.Name() + " " + trackFlagText(o.track) + " " + rev
		if r.Refs.Exists(refs.Heads + name) {
			return "", "", "", fmt.Errorf("%s: a branch named '%s' already exists", what, name)
		}
		return name, rev, what, nil
	}
	if o.detach {
		return "", "", "", nil
	}
	guess, err := guessEnabled(cmd, r, o.guess)
	if err != nil || !guess {
		return "", "", "", err
	}
	if start, err = guessNewBranch(r, cmd.Name(), rev); err != nil || start == "" {
		return "", "", "", err
	}
	if !o.branchOnly && isFile(rev) {
		return "", "", "", fmt.Errorf("%s: '%s' could be both a local file and a tracking branch: 'strata %s --track %s' makes the branch, 'strata restore %s' restores the file", cmd.Name(), rev, cmd.Name(), refs.ShortName(start), pathquote.Quote(rev))
	}
	return rev, start, cmd.Name() + " " + rev, nil
}

// addGuessFlags adds --guess and --no-guess: the last given wins.
func addGuessFlags(fs *pflag.FlagSet, guess *bool) {
	fs.BoolVar(guess, "guess", true, "make branch NAME from the one remote's REMOTE/NAME when no revision is NAME; config checkout.guess false turns it off")
	fs.Var(notFlag{guess}, "no-guess", "do not guess a new branch from a remote's")
	fs.Lookup("no-guess").NoOptDefVal = "true"
}
