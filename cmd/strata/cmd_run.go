package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/strata-sh/strata/exec"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/worktree"
)

func init() { register("run", newRunCommand) }

func newRunCommand(g *globals) *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run [flags] [--] [COMMAND [ARG...]]",
		Short: "Run a command confined in the checkout or in a revision",
		Long: `Run a command in new mount, PID, UTS, IPC, cgroup and network namespaces
(as root the network is private: outbound traffic is NATed and -p
publishes ports; --network host shares this machine's, --network none
leaves only lo; without root the default is host), with Docker's
default capabilities and seccomp profile, no_new_privs, runc's masked paths and
runc's device rules (any node may be made; only null, zero, full, random,
urandom, tty, ptmx and pts open).

Without --rev the command runs in the checkout (./rootfs): what it changes
stays in the work tree, for 'strata status' and 'strata commit'. With
--rev it runs on a throwaway overlay of that revision, discarded after;
--commit instead commits the changes as a child of the revision when the
command exits 0 (moving the branch --rev names, or -b NEW).

With no COMMAND, the image's Entrypoint and Cmd run, with its Env,
WorkingDir and User. As docker's, HOSTNAME is the host name unless the
image's Env or -e sets it.

Exit status, as docker's: the command's own; 128+N when it was killed by
signal N; 125 when strata failed (including bad flags), 126 when the
command cannot be executed, 127 when it was not found.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.messageSet = cmd.Flags().Changed("message")
			o.entrypointSet = cmd.Flags().Changed("entrypoint")
			err := runRun(cmd.Context(), g, o, args)
			var ec exitCodeError
			if err != nil && !errors.As(err, &ec) {
				return exitCodeError{code: exec.CodeRuntime, err: err}
			}
			return err
		},
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		err = cleanFlagError(err)
		if strings.HasSuffix(err.Error(), "'h' in -h") {
			// -h alone: the user may have meant help.
			err = fmt.Errorf("%w (-h is --hostname, as docker's; help is --help)", err)
		}
		return exitCodeError{code: exec.CodeRuntime, err: err}
	})
	f := cmd.Flags()
	f.SetInterspersed(false) // flags after COMMAND belong to it
	o.addFlags(f)
	return cmd
}

func runRun(ctx context.Context, g *globals, o runOptions, args []string) error {
	var supervisor string // this is the supervisor of the detached run so named
	if o.detach {
		supervisor = os.Getenv(envSupervise)
	}
	if supervisor == "" { // a supervisor reads them where the run was made
		if err := o.readEnvFiles(); err != nil {
			return err
		}
		var err error
		if o.labelSet, err = o.readLabels(); err != nil {
			return err
		}
	}
	if o.path != "" && o.rev != "" {
		// --rev runs on a throwaway tree of its own: --path would be dropped.
		return usagef("run: --path and --rev name two trees: give one (--rev runs on a throwaway tree)")
	}
	if o.commit && o.rev == "" {
		return fmt.Errorf("run --commit: needs --rev (in the checkout, use 'strata commit' after run)")
	}
	if o.messageSet && !o.commit {
		return usagef("run: --message goes with --commit")
	}
	if o.messageSet && o.message == "" {
		// As commit -m "": an empty message is refused, not replaced.
		return usagef("run: --message is empty: give a message, or leave --message out for \"run: COMMAND\"")
	}
	if o.branch != "" && !o.commit {
		return usagef("run: -b goes with --commit")
	}
	if o.detach && len(o.attach) > 0 {
		return usagef("run: conflicting options: cannot specify both --attach and --detach")
	}
	if o.detach {
		if _, err := o.resources(); err != nil {
			return err
		}
		if supervisor != "" {
			os.Unsetenv(envSupervise)
			return supervise(ctx, g, o, args, supervisor)
		}
		cid, err := createCIDFile(o.cidfile)
		if err != nil {
			return err
		}
		defer cid.discard()
		return startDetached(ctx, g, o, cid)
	}
	if o.name != "" {
		return usagef("run --name %s: a name is for a detached run: add -d", o.name)
	}
	if o.restart != "no" {
		return usagef("run --restart %s: goes with -d", o.restart)
	}
	if o.attached("stdin") && o.tty {
		if err := checkTerminal(g.stdin); err != nil {
			return err
		}
	}
	res, err := o.resources()
	if err != nil {
		return err
	}
	cid, err := createCIDFile(o.cidfile)
	if err != nil {
		return err
	}
	defer cid.discard()
	// The container's init starts now and waits for its config while the
	// worktree is opened. Not for --rev: its root is mounted later, and
	// the init's copy of the mount table would not have it.
	id := "run-" + randomHex(6)
	var early *exec.Early
	if fs, err := o.flagSpec(g); err == nil && o.rev == "" {
		fs.ID, fs.Resources = id, res
		early = exec.StartEarly(fs)
	}
	defer early.Close()
	r, wt, err := openCheckedOut(g, o.path)
	if err != nil {
		return err
	}
	// Mounting the tree builds snapshots and their indexes, staged in
	// .strata/tmp: a writer's work, which gc --prune=now must not remove
	// half-way. --commit stages and writes its commit after the
	// container, so it holds the lock to the end; otherwise it goes
	// before the container starts, and a long run holds gc off no more.
	if err := g.holdWrites(r); err != nil {
		return err
	}
	var (
		w    *worktree.Worktree
		base *objects.Commit
	)
	if o.rev == "" {
		w = wt
		// BaseCommit ensures the mount (once: each Ensure takes the lock
		// and reads the state and mountinfo).
		if base, err = w.BaseCommit(ctx); err != nil {
			return checkoutRunError(err)
		}
	} else {
		var unlock func()
		w, base, unlock, err = throwawayWorktree(ctx, r, o.rev)
		if err != nil {
			return fmt.Errorf("run --rev %s: %w", o.rev, err)
		}
		defer unlock() // after the removal: deferred calls run last first
		defer removeWorktree(w)
	}
	var target *commitTarget
	if o.commit {
		if target, err = planCommit(ctx, r, base, o); err != nil {
			return err
		}
	}
	spec, err := o.spec(g, base, args)
	if err != nil {
		return err
	}
	if err := o.checkForegroundPorts(spec.Ports); err != nil {
		return err
	}
	spec.Root, spec.Resources = w.Target(), res
	if o.rev != "" {
		// Killed, strata leaves the throwaway tree to gc, but not its
		// mount: the watchdog detaches it.
		spec.CrashUnmount = w.Target()
	}
	// The record tells commit to freeze the container while it reads the
	// upper, and checkout, reset, pull and umount not to pull the mount
	// from under it.
	release, err := w.RegisterRun(id, "")
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	defer release()
	if !o.commit {
		g.releaseWrites(r)
	}
	spec.ID = id
	if err := cid.write(id); err != nil {
		return err
	}
	if !o.attached("stdout") && !o.attached("stderr") {
		// As docker's: a run attached to neither says which it is.
		fmt.Fprintln(g.stdout, id)
	}
	// SIGTERM, SIGINT and SIGHUP are the container's to handle: exec.Run
	// forwards them and escalates to SIGKILL itself, so the signal that
	// cancels ctx must not kill the container.
	code, err := early.Run(context.WithoutCancel(ctx), spec)
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return exitCodeError{code: ee.Code, err: err}
	}
	if err != nil {
		return err
	}
	if target != nil && code == 0 {
		if err := commitThrowaway(ctx, g, w, target, o, spec.Args); err != nil {
			return err
		}
	}
	if code != 0 && target != nil {
		// Say it: a user who asked for --commit would otherwise look
		// for a commit that was never made.
		return exitCodeError{code: code, err: fmt.Errorf("the command exited with status %d; no commit was made (--commit commits only on success)", code)}
	}
	if code != 0 {
		return exitCodeError{code: code}
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return hex.EncodeToString(b)
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
