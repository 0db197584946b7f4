package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/strata-sh/strata/exec"
	"github.com/strata-sh/strata/repo"
)

func init() { register("exec", newExecCommand) }

// execOptions are exec's flags.
type execOptions struct {
	interactive, tty, detach bool
	privileged               bool
	user, workdir            string
	env, envFiles            []string
}

func newExecCommand(g *globals) *cobra.Command {
	var o execOptions
	cmd := &cobra.Command{
		Use:   "exec [-d] [-i] [-t] [--privileged] [-u USER] [-w DIR] [-e KEY=VAL] [--env-file FILE] NAME COMMAND [ARG...]",
		Short: "Run a command inside a running detached run",
		Long: `Run a command in a running detached run (run -d), as docker exec does:
in its namespaces and cgroups (so under its device rules and limits), with
the same capabilities, seccomp profile, no_new_privs and --group-add
groups as the run, its environment, user and working directory unless
-e, -u and -w say otherwise. --privileged gives the command every
capability, those the run's --cap-drop took too, and keeps the rest, as
docker's and podman's exec --privileged: the run's seccomp filter (none
if the run is --privileged), no_new_privs, device rules, limits, masked
paths and read-only /sys.

  strata exec web ps                 # what runs in web
  strata exec -it web /bin/sh        # a shell at a terminal inside web
  strata exec -d web touch /ready    # in the background: back once it runs

-d returns once the command runs (or with why it cannot start, as
without -d), leaving it in the run with its output discarded, as
docker's exec -d: a strata in the background waits for it, and it ends
at the latest with the run. With -t it gets a terminal (80x24) all the
same, with -i a stdin that stays open with nothing to read, as docker's
exec -dt and -di.

-t gives the command a terminal of its own (a pty of the container's
devpts), sized like yours, which goes raw meanwhile with -i; its output
(stdout and stderr together) comes through it. As docker's, stdin is
passed with -i only, and -it refuses a stdin that is not a terminal.

Exit status: the command's own; 128+N when killed by signal N; 1 when the
run is not running, is paused, or there is none of that name; 125 (bad flags
included), 126, 127 as for run.`,
		Args: minArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(o.envFiles) > 0 {
				fileEnv, err := readEnvFiles(o.envFiles, nil)
				if err != nil {
					return exitCodeError{code: exec.CodeRuntime, err: fmt.Errorf("exec: %w", err)}
				}
				o.env = append(fileEnv, o.env...) // -e comes later: it wins, as in docker
			}
			if err := checkEnvNames(o.env); err != nil {
				return exitCodeError{code: exec.CodeRuntime, err: fmt.Errorf("exec: %w", err)}
			}
			if err := checkWorkdir(o.workdir); err != nil {
				return exitCodeError{code: exec.CodeRuntime, err: fmt.Errorf("exec: %w", err)}
			}
			if o.interactive && o.tty && !o.detach {
				if err := checkTerminal(g.stdin); err != nil {
					return exitCodeError{code: exec.CodeRuntime, err: fmt.Errorf("exec: %w", err)}
				}
			}
			var started func(int)
			if o.detach {
				// The waiter is told by its parent's pid, not by a
				// variable a shell may pass on.
				if os.Getenv(envExecDetached) != strconv.Itoa(os.Getppid()) {
					os.Unsetenv(envExecDetached)
					return forEachRun(cmd.Context(), g, args[:1], spawnDetachedExec)
				}
				// The waiter that spawnDetachedExec started.
				os.Unsetenv(envExecDetached)
				ready := openReadyPipe()
				started = func(int) { ready.ok() }
				err := forEachRun(cmd.Context(), g, args[:1], func(r *repo.Repo, s *svc) error {
					return execIn(cmd.Context(), g, s, o, args[1:], started)
				})
				if err != nil {
					ready.fail(exitCode(err, io.Discard), err)
				}
				return err
			}
			return forEachRun(cmd.Context(), g, args[:1], func(r *repo.Repo, s *svc) error {
				return execIn(cmd.Context(), g, s, o, args[1:], nil)
			})
		},
	}
	// Bad flags exit 125, as run's and docker exec's.
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return exitCodeError{code: exec.CodeRuntime, err: cleanFlagError(err)}
	})
	f := cmd.Flags()
	f.SetInterspersed(false)
	f.BoolVarP(&o.detach, "detach", "d", false, "run the command in the background; back once it runs")
	f.BoolVarP(&o.interactive, "interactive", "i", false, "pass stdin to the command")
	f.StringVarP(&o.user, "user", "u", "", "`USER[:GROUP]` (default: the run's)")
	f.StringVarP(&o.workdir, "workdir", "w", "", "working directory inside the container, an absolute path (default: the run's)")
	f.StringArrayVarP(&o.env, "env", "e", nil, "set `KEY=VAL`")
	f.StringArrayVar(&o.envFiles, "env-file", nil, "read KEY=VAL lines from `FILE`, as docker (-e wins)")
	f.BoolVarP(&o.tty, "tty", "t", false, "allocate a pseudo-terminal")
	f.BoolVar(&o.privileged, "privileged", false, "every capability for this command; the run's seccomp filter stays, as docker's")
	return cmd
}

// execIn runs args in the run s; started, if set, is called once the
// command runs.
func execIn(ctx context.Context, g *globals, s *svc, o execOptions, args []string, started func(int)) error {
	pid, sup, ok := s.containerAndSupervisor()
	if !ok {
		return s.notRunning()
	}
	if exec.Paused(pid) {
		// Its processes could not run, and the joining one would freeze.
		return fmt.Errorf("%s is paused; unpause it first", s.st.Name)
	}
	spec := exec.Spec{Args: args, Env: mergeEnv(s.st.Env, o.env), Cwd: firstNonEmpty(o.workdir, s.st.Workdir), User: firstNonEmpty(o.user, s.st.User),
		Privileged: s.st.Privileged, PrivilegedExec: o.privileged, CapAdd: s.st.CapAdd, CapDrop: s.st.CapDrop,
		GroupAdd: s.st.GroupAdd, // as docker's exec: the run's, whatever -u says
		Stdout:   g.stdout, Stderr: g.stderr, Terminal: o.tty, Started: started,
		Parent: sup} // pid is pid 1 still once Join holds it
	if o.interactive {
		spec.Stdin = g.stdin
	}
	if o.interactive && o.detach {
		// As docker's exec -di: a stdin that stays open, with nothing
		// to read, until the command ends.
		r, w, err := os.Pipe()
		if err != nil {
			return exitCodeError{code: exec.CodeRuntime, err: fmt.Errorf("exec: %w", err)}
		}
		defer r.Close()
		defer w.Close()
		spec.Stdin = r
	}
	// As docker's exec: the run's limits.
	rls, err := parseUlimits(s.st.Ulimits)
	if err != nil {
		return exitCodeError{code: exec.CodeRuntime, err: err}
	}
	spec.Rlimits = rls
	code, err := exec.Join(context.WithoutCancel(ctx), pid, spec)
	var ee *exec.ExitError
	if err != nil && (!errors.As(err, &ee) || ee.Code == exec.CodeRuntime) && s.endedSince(pid) {
		// Its pid 1 ended as exec began: say so, not what joining it met.
		return s.notRunning()
	}
	if ee != nil {
		return exitCodeError{code: ee.Code, err: err}
	}
	if err != nil {
		return exitCodeError{code: exec.CodeRuntime, err: err}
	}
	if code != 0 {
		return exitCodeError{code: code}
	}
	return nil
}

// endedSince reports whether the run's pid 1 is no longer pid, a live
// process.
func (s *svc) endedSince(pid int) bool {
	if err := s.reload(); err != nil {
		return true
	}
	now, ok := s.containerPid()
	return !ok || now != pid
}
