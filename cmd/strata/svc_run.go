package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/strata-sh/strata/exec"
	"github.com/strata-sh/strata/internal/regfile"
	"github.com/strata-sh/strata/snapshot"
	"github.com/strata-sh/strata/worktree"
)

// envSupervise tells a strata started by 'run -d' that it is the run's
// supervisor, and which run; fd 3 is where it reports the start.
const envSupervise = "_STRATA_SUPERVISE"

// startDetached is 'run -d': it records the run, starts its supervisor and
// returns once the container runs (or failed to start, leaving nothing).
func startDetached(ctx context.Context, g *globals, o runOptions, cid *cidFile) error {
	if _, _, err := parseRestart(o.restart); err != nil {
		return err
	}
	// Checked here; the supervisor records them as it binds them, with
	// the host port each ephemeral one got, before run -d returns.
	if _, err := o.ports(nil); err != nil {
		return err
	}
	if o.rm && o.restart != "no" {
		return usagef("run: --rm and --restart %s do not go together", o.restart)
	}
	r, err := g.openRepo()
	if err != nil {
		return err
	}
	// The supervisor's mount namespace and the run's work tree both need
	// root: say so as run without -d does, not as the fork the kernel
	// refuses (EPERM on CLONE_NEWNS).
	if err := snapshot.CanMount(); err != nil {
		if o.rev != "" {
			return fmt.Errorf("run --rev %s: %w", o.rev, err)
		}
		return fmt.Errorf("run: %w", err)
	}
	if err := os.MkdirAll(servicesDir(r), 0o700); err != nil {
		return fmt.Errorf("run: %w", err)
	}
	name := o.name
	if name != "" {
		if err := checkRunName(name); err != nil {
			return usagef("run --name: %w", err)
		}
	}
	// Held until the run's state is saved: until then, its directory
	// is not a run named name for rename's check.
	unlockNames, err := lockNames(r)
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	defer func() { unlockNames() }()
	s := &svc{}
	for try := 0; ; try++ {
		n := name
		if n == "" {
			n = generateName()
			if try > 20 {
				n += strconv.Itoa(try)
			}
		}
		var err error
		s.dir, err = claimRunDir(r, n)
		if err == nil {
			name = n
			s.id = containerID(r, filepath.Base(s.dir))
			break
		}
		if !errors.Is(err, os.ErrExist) || name != "" {
			if name != "" {
				// run's own failure: 125, as docker's.
				return exitCodeError{code: exec.CodeRuntime, err: fmt.Errorf("run: the name %q is already in use (strata rm %s)", name, name)}
			}
			return fmt.Errorf("run: %w", err)
		}
	}
	// The supervisor is strata again with the same arguments, in the
	// same directory, naming the same host paths.
	cwd, _ := g.userDir()
	if real, err := filepath.EvalSymlinks(cwd); err == nil {
		cwd = real
	}
	hostPaths, err := resolveHostPaths(o.hostPaths(g))
	if err != nil {
		os.RemoveAll(s.dir)
		return fmt.Errorf("run: %w", err)
	}
	argv := g.argv
	if o.name == "" {
		argv = withName(argv, name)
	}
	s.st = svcState{Name: name, Rev: o.rev, Argv: argv, Cwd: cwd, Restart: o.restart,
		Status: "created", Created: time.Now().UTC(), Log: s.path("log"), Remove: o.rm,
		StopTimeout: &o.stopTimeout, HostPaths: hostPaths, Labels: o.labelSet}
	cleanup := func() { os.RemoveAll(s.dir) }
	if err := s.save(); err != nil {
		cleanup()
		return fmt.Errorf("run: %w", err)
	}
	unlockNames()
	unlockNames = func() {}
	if o.rev == "" {
		// The checkout is mounted here, where the user sees it; the
		// supervisor's own mounts stay in its private mount namespace.
		if _, err := worktree.Main(r).Ensure(ctx); err != nil {
			cleanup()
			return checkoutRunError(err)
		}
	}
	if err := spawnSupervisor(s); err != nil {
		// The supervisor, gone now, may have made the run's work tree
		// (--rev): removeSvc takes it with the run's directory.
		if made, lerr := loadSvc(r, name); lerr == nil {
			s = made
		}
		removeSvc(r, s)
		return err
	}
	if err := cid.write(s.id); err != nil {
		return err
	}
	fmt.Fprintln(g.stdout, name)
	return nil
}

// withName makes sure the stored command line names the run, so that a
// restart finds the same one.
func withName(argv []string, name string) []string {
	for i, a := range argv {
		if a == "run" {
			out := append(append([]string{}, argv[:i+1]...), "--name", name)
			return append(out, argv[i+1:]...)
		}
	}
	return argv
}

// childEnv is the environment of a strata this one starts for itself
// (a supervisor, exec -d's waiter): the user's, less any of strata's
// own hand-over variables (_STRATA_*) it inherited, plus set. An
// inherited one would steer the child: with _STRATA_ATTACH_FIRST a
// supervisor took whatever its fd 4 was for an attacher's socket.
func childEnv(set ...string) []string {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "_STRATA_") })
	return append(env, set...)
}

// spawnSupervisor starts strata again as the run's supervisor, in a
// session and mount namespace of its own (its mounts die with it), and
// waits for its report: the container runs, or why it does not.
// attacher, if not nil, is a connection its hub serves as the first
// attacher's (start -a).
func spawnSupervisor(s *svc, attacher ...*os.File) error {
	env := childEnv(envSupervise + "=" + s.st.Name)
	if len(attacher) > 0 {
		env = append(env, envAttachFirst+"=1")
	}
	if s.st.Cwd != "" {
		dir, err := s.st.openRunDir()
		if err != nil {
			return err
		}
		defer dir.Close()
		dirID, err := fileID(dir)
		if err != nil {
			return fmt.Errorf("run: %w", err)
		}
		env = append(env, envSuperviseDir+"="+dirID)
	}
	if err := s.st.checkHostPaths(); err != nil {
		return err
	}
	// Its own stderr (what it says before it can report, and its
	// diagnostics later) is kept beside the run's log.
	errLog, err := os.OpenFile(s.path("supervisor.err"), os.O_WRONLY|os.O_CREATE|os.O_APPEND|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	defer errLog.Close()
	cmd := &osexec.Cmd{
		Path:        "/proc/self/exe",
		Args:        append([]string{os.Args[0]}, s.st.Argv...),
		Dir:         s.st.Cwd,
		Env:         env,
		Stderr:      errLog,
		SysProcAttr: &syscall.SysProcAttr{Setsid: true, Cloneflags: unix.CLONE_NEWNS},
		ExtraFiles:  attacher, // fd 4, after the ready pipe's 3
	}
	err = startAndAwait(cmd, "run: start supervisor")
	if !errors.Is(err, errNoReport) {
		return err
	}
	if why := lastLine(s.path("supervisor.err")); why != "" {
		return fmt.Errorf("run: the supervisor exited before the container started: %s", why)
	}
	return fmt.Errorf("run: the supervisor exited before the container started")
}

// lastLine is the last line the supervisor wrote to its stderr, without
// strata's own "strata: " prefix, at most 512 bytes of it.
func lastLine(path string) string {
	b, err := regfile.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	last := strings.TrimPrefix(lines[len(lines)-1], "strata: ")
	if len(last) > 512 {
		last = last[:512]
	}
	return last
}
