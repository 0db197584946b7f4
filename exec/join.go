//go:build !strata_init

package exec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	osexec "os/exec"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Join runs spec.Args inside the running container whose pid 1 has host
// pid pid (docker exec): in its cgroups (so its device rules and limits),
// its mount, UTS, IPC, network, PID and cgroup namespaces, with the
// capabilities, seccomp filter and no_new_privs that Run gives a container
// of the same spec (PrivilegedExec: every capability, the run's filter).
// Used from Spec: Args, Env, Cwd, User, GroupAdd, Privileged,
// PrivilegedExec, CapAdd, CapDrop, Rlimits, Parent, Stdin, Stdout, Stderr and Terminal (a pty
// opened in the container's devpts, as Run's, sized like the caller's
// terminal, which goes raw meanwhile), and Started: called with the
// command's host pid once it runs (on nsenter's way, with nsenter's),
// never for a command that could not start.
//
// There are three ways in (joindirect.go says when each is taken):
//
//	thread: a thread of this process joins the v1 cgroups, enters the
//	  namespaces through a pidfd of pid 1 and forks the command
//	init: a thread enters the PID namespace and forks the sealed init
//	  binary into the v2 cgroup (CLONE_INTO_CGROUP); the init (mode
//	  joinfd) enters the other namespaces through the pidfd, confines
//	  itself as the container init does after pivot_root and executes
//	  the command in place
//	nsenter: util-linux nsenter enters the namespaces but the PID one
//	  and executes the init in join mode inside them:
//	    strata-init (joincg: host side; moves itself into the cgroups)
//	      -> execve nsenter --mount=F ... --cgroup=F (pid 1's namespace files,
//	         opened while a pidfd held it)
//	         -> execve /N from nsenter's /proc/self/fd (join: enters the
//	            container's root and, for its children, PID namespace,
//	            confines itself, then forks the command and waits for it:
//	            joinfork.go)
//	  The init makes a status pipe of its own and sends its read end back
//	  over a socket (nsenter, which used to fork, held the first one until
//	  the command ended): its end says the command runs, as on the other
//	  ways.
func Join(ctx context.Context, pid int, spec Spec) (int, error) {
	code, err := joinContainer(ctx, pid, spec)
	return code, joinError(err)
}

// joinError drops the "start container: " that the steps exec shares
// with run put first: an exec starts no container. Whatever err wraps
// stays wrapped.
func joinError(err error) error {
	var ee *ExitError
	if !errors.As(err, &ee) || !strings.HasPrefix(ee.Err.Error(), startPrefix) {
		return err
	}
	return &ExitError{Code: ee.Code, Err: retitled{msg: strings.TrimPrefix(ee.Err.Error(), startPrefix), err: ee.Err}}
}

// retitled is err with another message.
type retitled struct {
	msg string
	err error
}

func (r retitled) Error() string { return r.msg }
func (r retitled) Unwrap() error { return r.err }

func joinContainer(ctx context.Context, pid int, spec Spec) (int, error) {
	if len(spec.Args) == 0 {
		return CodeRuntime, runtimeErr("no command given")
	}
	if os.Geteuid() != 0 {
		return CodeRuntime, runtimeErr("joining a container needs root: %w", ErrRootless)
	}
	runCaps, err := capSet(spec.Privileged, spec.CapAdd, spec.CapDrop)
	if err != nil {
		return CodeRuntime, runtimeErr("%w", err)
	}
	caps := runCaps
	if spec.PrivilegedExec {
		// Every capability, whatever the run dropped, as docker's and
		// podman's exec --privileged: the filter below stays the run's.
		if caps, err = capSet(true, nil, nil); err != nil {
			return CodeRuntime, runtimeErr("%w", err)
		}
	}
	cfg := &initConfig{Args: spec.Args, Env: spec.Env, Cwd: spec.Cwd, User: spec.User,
		GroupAdd: spec.GroupAdd, Privileged: spec.Privileged || spec.PrivilegedExec, Caps: caps, Joined: true,
		Rlimits: spec.Rlimits}
	if !spec.Privileged {
		// The run's filter, whatever the command's capabilities: the one
		// its own processes have.
		if cfg.Seccomp, err = seccompBytes(runCaps); err != nil {
			return CodeRuntime, runtimeErr("%w", err)
		}
	}
	// Held from here: what is opened of pid while held is alive is its.
	held, err := holdProcess(pid, spec.Parent)
	if err != nil {
		return CodeRuntime, runtimeErr("%w", err)
	}
	defer unix.Close(held)
	t, ok, err := joinTargetOf(pid, slices.Contains(caps, "CAP_SYS_PTRACE"))
	if err == nil && ok {
		err = stillHeld(held, pid)
	}
	if err != nil {
		if ok {
			unix.Close(t.pidfd)
		}
		return CodeRuntime, runtimeErr("%w", err)
	}
	if ok {
		// A fork shares strata's memory until its execve (see
		// joindirect.go): a process of the container running as the
		// joined command's user could open it while strata is dumpable.
		if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
			unix.Close(t.pidfd)
			return CodeRuntime, runtimeErr("set non-dumpable: %w", err)
		}
		var code int
		// Rlimits are set on the init before it executes the command.
		if t.cgroup == "" && !joinByInit && len(spec.Rlimits) == 0 {
			code, err = joinDirect(ctx, t, &spec, cfg)
		} else {
			code, err = joinFromInit(ctx, pid, held, spec, cfg, &t)
		}
		if !errors.Is(err, errSetnsPidfd) {
			return code, err
		}
	}
	return joinFromInit(ctx, pid, held, spec, cfg, nil)
}

// readStatusPipe reads the status pipe that sock brings from the joined
// init, as readStatus does; ok is false if none came (no sock, or the
// init failed before it sent one: its first status pipe says why).
func readStatusPipe(sock *os.File, exited <-chan struct{}) (b []byte, ok bool) {
	if sock == nil {
		return nil, false
	}
	fd, err := recvFd(sock, "status pipe")
	if err != nil {
		return nil, false
	}
	// Non-blocking: the runtime's poller reads it, and readStatus can
	// end the read.
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, false
	}
	f := os.NewFile(uintptr(fd), "status pipe")
	defer f.Close()
	return readStatus(f, exited), true
}

// joinByInit is true in tests that take the init's way in where a thread
// of strata could fork the command itself.
var joinByInit = false

// joinStarted is called on nsenter's way once the joined init is started
// and before it has its config; tests hold the join there.
var joinStarted = func(pid int) {}

// joinHolding is called on nsenter's way before the container's /proc
// files are opened; tests end its pid 1 there.
var joinHolding = func(pid int) {}

// joinFromInit runs cfg in the container of pid (held: a pidfd of it)
// through the init: forked into the container by a thread of this
// process where t is given, else through nsenter (see Join).
func joinFromInit(ctx context.Context, pid, held int, spec Spec, cfg *initConfig, t *joinTarget) (int, error) {
	var nsenter, containerRoot, pidNamespace *os.File
	var namespaces []*os.File // nsenter's: mnt, uts, ipc, net, cgroup
	var procs []string
	if t == nil {
		joinHolding(pid)
		path, err := osexec.LookPath("nsenter")
		if err != nil {
			return CodeRuntime, runtimeErr("nsenter (util-linux) is needed to join a container: %w", err)
		}
		// Its child runs in the container's PID namespace, where a
		// container that may ptrace (the reason for this way) opened
		// its /proc/<pid>/exe and wrote the host's nsenter once it
		// stopped running: nsenter runs from a sealed copy.
		if nsenter, err = sealedCopy(path); err != nil {
			return CodeRuntime, runtimeErr("%w", err)
		}
		defer nsenter.Close()
		if procs, err = cgroupProcsOf(pid); err != nil {
			return CodeRuntime, runtimeErr("%w", err)
		}
		if containerRoot, err = openRootOf(pid); err != nil {
			return CodeRuntime, runtimeErr("%w", err)
		}
		defer containerRoot.Close()
		if pidNamespace, err = openPidNamespaceOf(pid); err != nil {
			return CodeRuntime, runtimeErr("%w", err)
		}
		defer pidNamespace.Close()
		if namespaces, err = openNamespacesOf(pid); err != nil {
			return CodeRuntime, runtimeErr("%w", err)
		}
		defer closeAll(namespaces)
		if err := stillHeld(held, pid); err != nil {
			return CodeRuntime, runtimeErr("%w", err)
		}
	}
	var pidfd *os.File
	if t != nil {
		pidfd = os.NewFile(uintptr(t.pidfd), "pidfd")
		defer pidfd.Close()
	}
	exe, err := initExe(holdsSysAdmin(&spec))
	if err != nil {
		return CodeRuntime, runtimeErr("%w", err)
	}
	if t == nil {
		if err := requireStatic(exe); err != nil {
			return CodeRuntime, runtimeErr("%w", err)
		}
	}
	cfgR, cfgW, err := os.Pipe()
	if err != nil {
		return CodeRuntime, runtimeErr("%w", err)
	}
	defer cfgW.Close()
	child, err := ChildSetting(cfgR.Fd())
	if err != nil {
		cfgR.Close()
		return CodeRuntime, runtimeErr("%w", err)
	}
	statR, statW, err := os.Pipe()
	if err != nil {
		cfgR.Close()
		return CodeRuntime, runtimeErr("%w", err)
	}
	defer statR.Close()
	self := "/proc/self/fd/5" // exe, the third extra file
	files := []*os.File{cfgR, statW, exe}
	c := &container{spec: &spec, ttyFd: -1}
	defer c.close()
	var ttyParent *os.File
	if spec.Terminal {
		if ttyParent, err = terminalSocket(c); err != nil {
			cfgR.Close()
			statW.Close()
			return CodeRuntime, err
		}
		defer ttyParent.Close()
		c.sizeTerminal(cfg)
		files = append(files, c.ttyChild) // fdJoinTTY
	}
	cmd := &osexec.Cmd{Path: self, ExtraFiles: files}
	// nsenter's way: the joined init's own status pipe comes over
	// statusSock (ownStatus); statusChild is its end.
	var statusSock, statusChild *os.File
	if t == nil {
		pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			cfgR.Close()
			statW.Close()
			return CodeRuntime, runtimeErr("socketpair: %w", err)
		}
		statusSock = os.NewFile(uintptr(pair[0]), "status-parent")
		defer statusSock.Close()
		statusChild = os.NewFile(uintptr(pair[1]), "status-child")
		nsenterPath := "/proc/self/fd/" + strconv.Itoa(3+len(files)+1) // after statusChild
		// nsenter executes the init from a root it opened before it
		// entered the mount namespace: in the container's root, the
		// /proc of /proc/self/fd/5 is the container's to mount over, and
		// a rootless container (root in a user namespace of its own,
		// which --cap-add SYS_ADMIN lets mount) had its own program run
		// as the host's root with every capability. That root and the
		// working directory are nsenter's own descriptor directory, where
		// "/5" is the init, and nothing else of the host's shows
		// through the child's /proc/PID/root. The init then enters the
		// container's root (enterRoot), the descriptor after nsenter's.
		// nsenter leaves the PID namespace alone (no -p), so neither it
		// nor the init appears in the container's until the init has
		// confined itself and forks the command into it (joinfork.go):
		// nsenter's child did, unconfined, rooted at nsenter's
		// descriptor directory on the host's /proc, and a container with
		// CAP_SYS_PTRACE walked "/proc/PID/root/../../.." to the host's
		// root.
		//
		// nsenter enters the namespaces strata opened while it held pid 1
		// (holdProcess), not those of whatever process has its pid by
		// then (-t): one of the host's took it once pid 1 had ended, and
		// the command ran on the host.
		cmd.Args = []string{"strata-join", nsenterPath}
		nsFd := 3 + len(files) + 1 + 3 // after nsenter, the root and the PID namespace
		for i, flag := range []string{"--mount", "--uts", "--ipc", "--net", "--cgroup"} {
			cmd.Args = append(cmd.Args, flag+"=/proc/self/fd/"+strconv.Itoa(nsFd+i))
		}
		cmd.Args = append(cmd.Args, "--root=/proc/self/fd", "--wd=/proc/self/fd",
			"--", strings.TrimPrefix(self, "/proc/self/fd"))
		cmd.Args = append(cmd.Args, procs...)
		cmd.Env = []string{envMode + "=joincg", child}
		cmd.ExtraFiles = append(files, statusChild, nsenter, containerRoot, pidNamespace) // statusChild: fdJoinTTY, or the one after it
		cmd.ExtraFiles = append(cmd.ExtraFiles, namespaces...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	} else {
		// No parent-death signal: Go's fork would kill a child that
		// cannot see its parent, and this one's is outside its PID
		// namespace. Until the command runs, the init dies at the end of
		// its config pipe; the command outlives strata as a thread's does.
		cmd.Args = []string{"strata-join"}
		cmd.Env = []string{envMode + "=joinfd", child}
		cmd.ExtraFiles = append(files, pidfd) // fdJoinTTY, or the one after it
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	if !spec.Terminal {
		cmd.Stdin, cmd.Stdout, cmd.Stderr = spec.Stdin, spec.Stdout, spec.Stderr
	}
	c.cmd = cmd
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, forwarded...)
	defer signal.Stop(sigs)
	if t == nil {
		if err = cmd.Start(); err != nil {
			err = fmt.Errorf("start: %w", err)
		}
	} else if err = startInto(cmd, t); err != nil && !errors.Is(err, errSetnsPidfd) {
		err = fmt.Errorf("join container: %w", err)
	}
	for _, f := range files[:2] {
		f.Close()
	}
	if statusChild != nil {
		statusChild.Close()
	}
	if c.ttyChild != nil {
		c.ttyChild.Close()
	}
	if errors.Is(err, errSetnsPidfd) {
		return CodeRuntime, err
	}
	if err != nil {
		return CodeRuntime, runtimeErr("%w", err)
	}
	if t == nil {
		joinStarted(cmd.Process.Pid)
	}
	if _, err := cfgW.Write(cfg.encode()); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return CodeRuntime, runtimeErr("send config: %w", err)
	}
	cfgW.Close()
	if spec.Terminal {
		// EOF: the joined init failed before its terminal; its status says why.
		if c.master, err = recvMaster(ttyParent); err != nil && err != io.EOF {
			cmd.Process.Kill()
			cmd.Wait()
			return CodeRuntime, runtimeErr("%w", err)
		}
		if c.master != nil {
			c.startTerminalIO()
		}
	}
	// The status pipe stays open in nsenter until the command ends: read
	// it beside the wait, not before. Through nsenter, it holds what
	// failed before the joined init had a status pipe of its own
	// (ownStatus), which comes over statusSock.
	status := make(chan []byte, 1)
	started := func() {
		if spec.Started != nil {
			spec.Started(cmd.Process.Pid) // EOF: executed, the pipe closed on exec
		}
	}
	exited := make(chan struct{}) // the joined init has: see readStatus
	go func() {
		b, own := readStatusPipe(statusSock, exited)
		if own && len(b) == 0 {
			started()
		}
		early := readStatus(statR, exited)
		if statusSock == nil && len(early) == 0 {
			started()
		}
		status <- append(early, b...)
	}()
	done, forwarder := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(forwarder)
		for {
			select {
			case s := <-sigs:
				if s == unix.SIGWINCH {
					if c.master != nil && c.ttyFd >= 0 {
						copySize(c.ttyFd, c.master)
					}
					continue
				}
				signalJoined(cmd.Process, s.(syscall.Signal), t == nil)
			case <-ctx.Done():
				signalJoined(cmd.Process, syscall.SIGKILL, t == nil)
				cmd.Process.Kill()
				return
			case <-done:
				return
			}
		}
	}()
	werr := cmd.Wait()
	close(exited)
	close(done)
	<-forwarder // it uses the pty master, which c.close releases
	if c.output != nil {
		// What the command wrote before it ended. A child it left behind
		// may hold the terminal open: that one's output is not waited for.
		select {
		case <-c.output:
		case <-time.After(time.Second):
		}
	}
	if b := <-status; len(b) > 0 {
		e := statusError(b, "join container: ")
		return e.Code, e
	}
	if werr != nil && !errors.As(werr, new(*osexec.ExitError)) {
		return CodeRuntime, runtimeErr("wait: %w", werr)
	}
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	return ws.ExitStatus(), nil
}
