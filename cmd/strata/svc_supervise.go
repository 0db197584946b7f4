package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/strata-sh/strata/exec"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/worktree"
)

// supervise is the supervisor: it runs the container, restarts it as
// --restart says, logs its output and records its state.
func supervise(ctx context.Context, g *globals, o runOptions, args []string, name string) error {
	ctx = context.WithoutCancel(ctx) // stop and kill signal the container, not us
	ready := openReadyPipe()
	fail := ready.fail
	// Mounts made here (the throwaway overlay) must not reach the host:
	// they then vanish with this process, however it ends.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_SLAVE, ""); err != nil {
		return fail(exec.CodeRuntime, fmt.Errorf("run: private mount namespace: %w", err))
	}
	r, err := g.openRepo()
	if err != nil {
		return fail(exec.CodeRuntime, err)
	}
	s, err := loadSvc(r, name)
	if err != nil {
		return fail(exec.CodeRuntime, fmt.Errorf("run: %w", err))
	}
	// Its host paths are bound and read only where they led when the
	// run was made.
	o.recorded = s.st.HostPaths
	if err := o.readEnvFiles(); err != nil {
		return fail(exec.CodeRuntime, err)
	}
	// Before any wait (the run's locks, a gc's writers lock, a --rev's
	// snapshot build): until then, this namespace's copies kept every
	// overlay the host had mounted, after the host unmounted it.
	if err := detachInheritedOverlays(svcTreeTarget(r, s, o), r.Dir, o.volumeSources()); err != nil {
		return fail(exec.CodeRuntime, fmt.Errorf("run: %w", err))
	}
	lock, err := s.openRunLock(os.O_CREATE | os.O_RDWR)
	if err != nil {
		return fail(exec.CodeRuntime, fmt.Errorf("run: %w", err))
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		return fail(exitError, fmt.Errorf("run: %s is already running", name))
	}
	os.Remove(s.path("stop"))
	os.Remove(s.path("restart"))
	if s.st.Remove {
		// Made before the run starts, for strata wait (holdForWaiters).
		s.writeRunFile(waitLockName, nil, 0o600)
	}
	// For systemd's PIDFile= (generate systemd).
	s.writeRunFile("supervisor.pid", []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
	s.st.SupPid, s.st.Status, s.st.Pid = os.Getpid(), "created", 0
	s.st.SupLockFd = int(lock.Fd())
	s.save() // no longer the dead supervisor's pid and container's
	// Its tree is mounted here, not while a cp or commit --from has it
	// mounted outside: that one is waited for, and unmounts it.
	unlockTree, err := s.lockTree(ctx, nil)
	if err != nil {
		return fail(exec.CodeRuntime, fmt.Errorf("run: %w", err))
	}
	// rm holds the tree lock from its check that no supervisor holds
	// the run's lock until the run is gone: one that took the run's lock
	// after that check finds, once it has the tree lock, that its lock
	// file is no longer the run's.
	if !sameFile(lock, s.path("lock")) {
		unlockTree()
		return fail(exitError, fmt.Errorf("run: %s was removed (rm) as it started", name))
	}
	// Mounting stages snapshots' indexes in .strata/tmp: a writer's
	// work, until the container starts; a service never holds gc off.
	if err := g.holdWrites(r); err != nil {
		unlockTree()
		return fail(exec.CodeRuntime, err)
	}
	w, base, err := svcWorktree(ctx, r, s, o)
	g.releaseWrites(r)
	unlockTree()
	if err != nil {
		s.st.Status = "exited"
		s.save()
		return fail(exec.CodeRuntime, fmt.Errorf("run --rev %s: %w", o.rev, err))
	}
	// Again: where / is shared (systemd), the host's mounts made since
	// reached this namespace.
	if err := detachInheritedOverlays(w.Target(), r.Dir, o.volumeSources()); err != nil {
		return fail(exec.CodeRuntime, fmt.Errorf("run: %w", err))
	}
	res, _ := o.resources() // checked by the parent
	spec, err := o.spec(g, base, args)
	if err != nil {
		return fail(exec.CodeRuntime, err)
	}
	log, err := openLog(s.logPath())
	if err != nil {
		return fail(exec.CodeRuntime, fmt.Errorf("run: %w", err))
	}
	defer log.Close()
	stdout, outDone := log.stream('o')
	stderr, errDone := log.stream('e')
	hub, err := listenAttach(s, o.interactive, o.tty)
	if err != nil {
		return fail(exec.CodeRuntime, fmt.Errorf("run: %w", err))
	}
	defer hub.close()
	if err := hub.adoptFirst(); err != nil {
		return fail(exec.CodeRuntime, fmt.Errorf("run: %w", err))
	}
	spec.Root, spec.Resources, spec.ID = w.Target(), res, s.id
	spec.Stdout = io.MultiWriter(stdout, hub.writer(frameStdout))
	spec.Stderr = io.MultiWriter(stderr, hub.writer(frameStderr))
	spec.Resize, spec.LongRunning = hub.resize, true
	s.st.Tty, s.st.OpenStdin = o.tty, o.interactive
	s.st.Command = spec.Args
	s.st.Env, s.st.User, s.st.Workdir = spec.Env, spec.User, spec.Cwd
	s.st.Privileged, s.st.CapAdd, s.st.CapDrop = spec.Privileged, spec.CapAdd, spec.CapDrop
	s.st.GroupAdd = spec.GroupAdd
	s.st.Ulimits = o.ulimits
	if base != nil {
		s.st.Commit = base.ID.String()
		s.st.Labels = withImageLabels(s.st.Labels, base.Config.Config.Labels)
	}
	s.st.StopSignal = o.stopSignal
	if s.st.StopSignal == "" && base != nil {
		s.st.StopSignal = base.Config.Config.StopSignal
	}
	var imagePorts map[string]struct{}
	if base != nil {
		imagePorts = base.Config.Config.ExposedPorts
	}
	s.st.Exposed, _ = o.exposedPorts(imagePorts) // checked by o.spec
	s.st.Config = o.runConfig(base, args)
	s.st.Ports = nil
	// The ports as bound, an ephemeral one with the port it got: saved
	// with the start (Started), which run -d waits for, so that port NAME
	// is right as soon as run -d returns.
	spec.Published = func(ports []exec.Port) {
		s.st.Ports = s.st.Ports[:0]
		for _, p := range ports {
			s.st.Ports = append(s.st.Ports, p.String())
		}
	}
	spec.Started = func(pid int) {
		hub.started() // before attach can see it running
		s.st.Pid, s.st.Status, s.st.Started = pid, "running", time.Now().UTC()
		s.save()
		ready.ok()
		time.AfterFunc(time.Second, releaseMemory) // once the start's work is over
	}
	_, maxRestarts, _ := parseRestart(o.restart)
	backoff := 100 * time.Millisecond
	last := 0 // the last run's exit code, for attach
	for {
		// A restart binds the -v sources again, by path.
		if err := s.st.checkHostPaths(); err != nil {
			err = fmt.Errorf("run: %w", err)
			if !ready.done {
				s.st.Status = "exited"
				s.save()
				return fail(exec.CodeRuntime, err)
			}
			log.record('e', []byte("strata: "+err.Error()+"\n"))
			break
		}
		release, err := w.RegisterRun(s.id, name)
		if err != nil {
			return fail(exec.CodeRuntime, fmt.Errorf("run: %w", err))
		}
		began := time.Now()
		spec.Stdin = hub.prepare()
		code, err := exec.Run(ctx, spec)
		release()
		last = code
		s.st.ExitCode, s.st.Finished, s.st.Pid = &code, time.Now().UTC(), 0
		if err != nil && !ready.done {
			s.st.Status = "exited"
			s.save()
			fail(code, err)
			break
		}
		if err != nil {
			log.record('e', []byte("strata: "+err.Error()+"\n"))
		}
		if !restartWanted(o.restart, maxRestarts, code, s.st.Restarts, s.stopRequested()) {
			break
		}
		if time.Since(began) > 10*time.Second {
			backoff = 100 * time.Millisecond
		}
		s.st.Status = "restarting"
		s.st.Restarts++
		s.save()
		hub.finish(code, false)
		svcTestHook("svc-restarting")
		if !s.sleepUnlessStopped(backoff) {
			break
		}
		backoff = min(2*backoff, 10*time.Second)
	}
	stdout.Close()
	stderr.Close()
	outDone.Wait()
	errDone.Wait()
	s.st.Status, s.st.Pid = "exited", 0
	s.save()
	if s.st.Tree != "" {
		w.Umount() // the mount namespace would drop it anyway
	}
	// --rm, unless restart stopped it to start it again (as docker's).
	if _, err := os.Stat(s.path("restart")); s.st.Remove && err != nil {
		s.holdForWaiters(5 * time.Second)
		removeSvc(r, s)
	}
	hub.finish(last, true)
	return nil
}

// sameFile reports whether f is still the file at path.
func sameFile(f *os.File, path string) bool {
	a, err1 := f.Stat()
	b, err2 := os.Stat(path)
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}

// svcTestHook holds a supervisor at a named point for a story, under go
// test only: STRATA_TEST_HOOK=<point>:<file> creates file there and
// waits until it is removed.
func svcTestHook(point string) {
	p, file, ok := strings.Cut(os.Getenv("STRATA_TEST_HOOK"), ":")
	if !ok || p != point || !testing.Testing() {
		return
	}
	os.WriteFile(file, nil, 0o644)
	for {
		if _, err := os.Stat(file); err != nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *svc) stopRequested() bool {
	_, err := os.Stat(s.path("stop"))
	return err == nil
}

// sleepUnlessStopped waits d, or less if a stop is asked for; it reports
// whether the run should go on.
func (s *svc) sleepUnlessStopped(d time.Duration) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if s.stopRequested() {
			return false
		}
	}
	return !s.stopRequested()
}

// svcTreeTarget is where run s's tree is mounted (or will be, by
// svcWorktree): the main checkout, the tree it ran on before, or a new
// one of its own.
func svcTreeTarget(r *repo.Repo, s *svc, o runOptions) string {
	switch {
	case o.rev == "":
		return worktree.Main(r).Target()
	case s.st.Tree != "":
		return s.st.Tree
	}
	return filepath.Join(s.dir, "tree", "svc-"+s.st.Name)
}

// svcWorktree is where the run's container runs: the checkout, or a
// throwaway work tree of --rev under the run's directory, kept between
// restarts and after the run ends (for diff and commit --from) until rm.
func svcWorktree(ctx context.Context, r *repo.Repo, s *svc, o runOptions) (*worktree.Worktree, *objects.Commit, error) {
	if o.rev == "" {
		w := worktree.Main(r)
		if _, err := w.Ensure(ctx); err != nil {
			return nil, nil, err
		}
		c, err := w.BaseCommit(ctx)
		return w, c, err
	}
	if s.st.Tree != "" {
		w, err := worktree.ForPath(r, s.st.Tree)
		if err != nil {
			return nil, nil, err
		}
		if _, err := w.Ensure(ctx); err != nil {
			return nil, nil, err
		}
		c, err := w.BaseCommit(ctx)
		return w, c, err
	}
	target := svcTreeTarget(r, s, o)
	if err := os.MkdirAll(target, 0o755); err != nil {
		return nil, nil, err
	}
	w, err := worktree.ForPath(r, target)
	if err != nil {
		return nil, nil, err
	}
	c, err := w.Checkout(ctx, worktree.CheckoutOptions{Rev: o.rev, Detach: true})
	if err != nil {
		os.RemoveAll(w.Dir)
		return nil, nil, err
	}
	s.st.Tree = target
	return w, c, s.save()
}

// removeSvc deletes everything of a run that has ended: its work tree
// (upper included) and its directory.
func removeSvc(r *repo.Repo, s *svc) error {
	unlinkName(r, s)
	if s.st.Tree != "" {
		if w, err := worktree.ForPath(r, s.st.Tree); err == nil {
			if err := w.Umount(); err != nil && !errors.Is(err, worktree.ErrNotCheckedOut) {
				return err
			}
			if w.Name != worktree.MainName {
				os.RemoveAll(w.Dir)
			}
		}
	}
	// Out of sight first, in one rename: stop returns once the lock file
	// is gone, and ps lists every directory with a state; deleted file
	// by file, a stopped run was still listed after stop returned.
	// Killed after the rename, the next ps, rm or gc finishes
	// (finishRemovals).
	gone := filepath.Join(filepath.Dir(s.dir), removingPrefix+filepath.Base(s.dir)+"-"+randomHex(4))
	if err := os.Rename(s.dir, gone); err != nil {
		return os.RemoveAll(s.dir)
	}
	svcTestHook("remove-renamed")
	return os.RemoveAll(gone)
}

// parseRestart reads --restart no|on-failure[:N]|always|unless-stopped.
func parseRestart(p string) (string, int, error) {
	kind, n, hasN := strings.Cut(p, ":")
	switch kind {
	case "no", "always", "unless-stopped":
		if !hasN {
			return kind, 0, nil
		}
	case "on-failure":
		if !hasN {
			return kind, 0, nil
		}
		if v, err := strconv.Atoi(n); err == nil && v >= 0 {
			return kind, v, nil
		}
	}
	return "", 0, usagef("--restart %s: want no, on-failure[:N], always or unless-stopped", p)
}

func restartWanted(policy string, max, code, restarts int, stopped bool) bool {
	if stopped {
		return false
	}
	kind, _, _ := strings.Cut(policy, ":")
	switch kind {
	case "always", "unless-stopped":
		return true
	case "on-failure":
		return code != 0 && (max == 0 || restarts < max)
	}
	return false
}
