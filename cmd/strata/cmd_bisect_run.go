package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/exec"
	"github.com/strata-sh/strata/worktree"
)

func newBisectRunCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run [--] COMMAND [ARG...]",
		Short: "Let a command decide, at each step, whether a commit is good",
		Long: `Test each commit with COMMAND until the first bad commit is found, as
git bisect run does. Each commit is tested on a throwaway overlay of that
revision (as 'strata run --rev REV -- COMMAND' would run it: the same
confinement, the image's Entrypoint, Env, WorkingDir and User, and run's
default network: private as root, the host's otherwise); the work tree is not moved, and nothing the command writes is
kept.

The command's exit status decides:
  0          good
  125        skip: this commit cannot be tested
  1 to 127   bad; but the first time the command exits 126 (cannot
             run) or 127 (not found), it is run on a good commit too, as
             git does, and if it exits the same there the bisection
             stops with an error and marks nothing: a command missing
             from the image names no first bad commit
  128 and up stop the bisection with an error (it was killed, or asked
             to stop); so does a failure of strata itself, or Ctrl-C

A bad and a good commit must be known first (bisect start BAD GOOD).

Exit status: 0 when the first bad commit is found, 1 on errors, 2 on
usage errors; 2 also, as git's, when only skipped commits are left to
test ("strata: bisect run: cannot continue any more").`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("bisect run: name the command that tells good from bad")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return bisectRun(cmd.Context(), g, args)
		},
	}
	cmd.Flags().SetInterspersed(false) // flags after COMMAND belong to it
	return cmd
}

func bisectRun(ctx context.Context, g *globals, args []string) error {
	b, err := openBisection(g)
	if err != nil {
		return err
	}
	if !b.started() {
		return errNotBisecting
	}
	var quoted []string
	for _, a := range args {
		quoted = append(quoted, shellQuote(a))
	}
	command := strings.Join(quoted, " ")
	checkedGood := false
	var next digest.Digest // the commit tested last, then the one to test
	for {
		mb, err := b.mergeBaseToTest(g.stderr, next)
		if err != nil {
			return err
		}
		if next = mb; mb != "" {
			fmt.Fprintln(g.stdout, "Bisecting: a merge base must be tested")
		} else {
			st, ok, err := b.next()
			if err != nil {
				return err
			}
			if !ok {
				return errors.New("a bad and a good commit must be known first: strata bisect bad REV; strata bisect good REV")
			}
			if done, err := b.finished(g.stdout, st); done || err != nil {
				if err == nil {
					fmt.Fprintln(g.stdout, "bisect found first bad commit")
				}
				if errors.Is(err, errOnlySkipped) {
					// git's exit 2, and its words on stderr.
					return exitCodeError{code: 2, err: errors.New("cannot continue any more: only skipped commits are left to test")}
				}
				return err
			}
			printBisecting(g.stdout, st)
			next = st.Next
		}
		fmt.Fprintln(g.stdout, b.describe(next))
		fmt.Fprintf(g.stdout, "running %s\n", command)
		code, why, err := b.testStatus(ctx, g, next, args)
		if err != nil {
			return err
		}
		// 126 and 127 come from a shell that cannot run or find the
		// command as well as from the command: as git does, the first
		// time, ask a good commit, and stop if it says the same.
		if (code == exec.CodeNotExecutable || code == exec.CodeNotFound) && !checkedGood {
			checkedGood = true
			if err := b.checkGood(ctx, g, args, command, code); err != nil {
				return err
			}
		}
		if why != nil {
			fmt.Fprintf(g.stderr, "strata: bisect run: %s: %v (exit %d: counted as bad)\n", shortID(next), why, code)
		}
		term := "bad"
		switch {
		case code == 0:
			term = "good"
		case code == 125:
			term = "skip"
		case code >= 128 || code < 0:
			return fmt.Errorf("exit code %d from %s is 128 or more: bisection stopped at %s (marked nothing)", code, command, shortID(next))
		}
		if err := b.mark(term, next); err != nil {
			return err
		}
	}
}

// testStatus tests commit id (test) and returns the command's exit
// status; when strata could not start the command (126, 127), why says
// what failed.
func (b *bisection) testStatus(ctx context.Context, g *globals, id digest.Digest, args []string) (code int, why error, err error) {
	code, err = b.test(ctx, g, id, args)
	if ctx.Err() != nil {
		return 0, nil, fmt.Errorf("interrupted while testing %s; nothing was marked", shortID(id))
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && (ee.Code == exec.CodeNotExecutable || ee.Code == exec.CodeNotFound) {
		return ee.Code, err, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("testing %s: %w", shortID(id), err)
	}
	return code, nil, nil
}

// checkGood runs the command on the first good commit, after it exited
// code (126 or 127) on a candidate, and fails if it exits code there too
// (git's "bogus exit code 127 for good revision").
func (b *bisection) checkGood(ctx context.Context, g *globals, args []string, command string, code int) error {
	_, good, _, err := b.terms()
	if err != nil {
		return err
	}
	if len(good) == 0 {
		return errors.New("no good commit to check the command on")
	}
	fmt.Fprintln(g.stdout, b.describe(good[0]))
	fmt.Fprintf(g.stdout, "running %s\n", command)
	got, why, err := b.testStatus(ctx, g, good[0], args)
	if err != nil {
		return fmt.Errorf("checking %s on good revision: %w", command, err)
	}
	if got == code {
		msg := fmt.Sprintf("bogus exit code %d for good revision %s", code, shortID(good[0]))
		if why != nil {
			msg += ": " + why.Error()
		}
		return errors.New(msg + " (marked nothing)")
	}
	return nil
}

// test runs args on a throwaway overlay of commit id, as strata run --rev
// does, and returns the command's exit status. The overlay is gone when it
// returns, whatever happened.
func (b *bisection) test(ctx context.Context, g *globals, id digest.Digest, args []string) (code int, err error) {
	// Mounting stages snapshots' indexes in .strata/tmp: a writer's
	// work, until the command runs (see runRun).
	if err := g.holdWrites(b.r); err != nil {
		return 0, err
	}
	w, base, unlock, err := throwawayWorktree(ctx, b.r, id.String())
	g.releaseWrites(b.r)
	if err != nil {
		return 0, err
	}
	defer func() {
		if rerr := dropThrowaway(w); rerr != nil && err == nil {
			err = rerr
		}
		unlock()
	}()
	// strata run's defaults, as its flags set them: as root a private
	// network, not the host's (its loopback services, its abstract
	// unix sockets).
	o := runOptions{network: exec.DefaultNetwork(), stopTimeout: 10}
	spec, err := o.spec(g, base, args)
	if err != nil {
		return 0, err
	}
	spec.Root, spec.CrashUnmount = w.Target(), w.Target() // as run --rev's
	spec.ID = "bisect-" + randomHex(6)
	release, err := w.RegisterRun(spec.ID, "")
	if err != nil {
		return 0, err
	}
	defer release()
	// Signals are the container's to handle (exec.Run forwards them); the
	// caller sees the cancelled ctx and stops.
	return exec.Run(context.WithoutCancel(ctx), spec)
}

// dropThrowaway removes a throwaway work tree: mount, state, HEAD
// reflog and directories.
func dropThrowaway(w *worktree.Worktree) error {
	target := w.Target()
	if err := w.Remove(context.Background(), 2); err != nil {
		return fmt.Errorf("remove throwaway overlay %s: %w", target, err)
	}
	return os.RemoveAll(filepath.Dir(target))
}
