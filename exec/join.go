//go:build !strata_init

package exec

import (
	"bytes"
	"context"
	"debug/elf"
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
// of the same spec. Used from Spec: Args, Env, Cwd, User, GroupAdd,
// Privileged, CapAdd, CapDrop, Rlimits, Stdin, Stdout, Stderr and Terminal (a pty
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
//	nsenter: util-linux nsenter enters the namespaces and executes the
//	  init in join mode inside them:
//	    strata-init (joincg: host side; moves itself into the cgroups)
//	      -> execve nsenter -t PID -m -u -i -n -p -C   (forks into the PID namespace)
//	         -> execve /proc/self/fd/N (join: confines itself, then execve the command)
//	  nsenter holds the status pipe until the command ends, so the init
//	  makes a status pipe of its own and sends its read end back over a
//	  socket: its end says the command runs, as on the other ways.
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
	caps, err := capSet(spec.Privileged, spec.CapAdd, spec.CapDrop)
	if err != nil {
		return CodeRuntime, runtimeErr("%w", err)
	}
	cfg := &initConfig{Args: spec.Args, Env: spec.Env, Cwd: spec.Cwd, User: spec.User,
		GroupAdd: spec.GroupAdd, Privileged: spec.Privileged, Caps: caps, Joined: true,
		Rlimits: spec.Rlimits}
	if !spec.Privileged {
		if cfg.Seccomp, err = seccompBytes(caps); err != nil {
			return CodeRuntime, runtimeErr("%w", err)
		}
	}
	t, ok, err := joinTargetOf(pid, slices.Contains(caps, "CAP_SYS_PTRACE"))
	if err != nil {
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
			code, err = joinFromInit(ctx, pid, spec, cfg, &t)
		}
		if !errors.Is(err, errSetnsPidfd) {
			return code, err
		}
	}
	return joinFromInit(ctx, pid, spec, cfg, nil)
}

// readStatusPipe reads, to its end, the status pipe that sock brings
// from the joined init; ok is false if none came (no sock, or the init
// failed before it sent one: its first status pipe says why).
func readStatusPipe(sock *os.File) (b []byte, ok bool) {
	if sock == nil {
		return nil, false
	}
	f, err := recvFile(sock, "status pipe")
	if err != nil {
		return nil, false
	}
	defer f.Close()
	b, _ = io.ReadAll(f)
	return b, true
}

// joinByInit is true in tests that take the init's way in where a thread
// of strata could fork the command itself.
var joinByInit = false

// joinFromInit runs cfg in the container of pid through the init: forked
// into the container by a thread of this process where t is given, else
// through nsenter (see Join).
func joinFromInit(ctx context.Context, pid int, spec Spec, cfg *initConfig, t *joinTarget) (int, error) {
	var nsenter string
	var procs []string
	if t == nil {
		var err error
		if nsenter, err = osexec.LookPath("nsenter"); err != nil {
			return CodeRuntime, runtimeErr("nsenter (util-linux) is needed to join a container: %w", err)
		}
		if procs, err = cgroupProcsOf(pid); err != nil {
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
		cmd.Args = append([]string{"strata-join", nsenter, "-t", strconv.Itoa(pid),
			"-m", "-u", "-i", "-n", "-p", "-C", "--", self}, procs...)
		cmd.Env = []string{envMode + "=joincg", child}
		cmd.ExtraFiles = append(files, statusChild) // fdJoinTTY, or the one after it
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
	go func() {
		b, own := readStatusPipe(statusSock)
		if own && len(b) == 0 {
			started()
		}
		early, _ := io.ReadAll(statR)
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
		ie, ok := parseInitError(b)
		if !ok {
			ie = initError{Code: CodeRuntime, Msg: "join container: " + strings.TrimSpace(string(b))}
		}
		return ie.Code, &ExitError{Code: ie.Code, Err: errors.New(ie.Msg)}
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

// requireStatic refuses an init binary that needs a dynamic loader:
// nsenter executes it inside the container's mount namespace, where the
// host's loader is not.
func requireStatic(exe *os.File) error {
	// The installed init is an O_PATH mount: read it through a new open
	// file description.
	r, err := os.Open("/proc/self/fd/" + strconv.Itoa(int(exe.Fd())))
	if err != nil {
		return err
	}
	defer r.Close()
	if f, err := elf.NewFile(r); err == nil {
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				return errors.New("joining a container needs a static init binary (the strata that make build makes embeds one)")
			}
		}
	}
	return nil
}

// startInto starts cmd (the init, mode joinfd) in the container t names:
// from a thread that has joined its v1 cgroups and entered its PID
// namespace, into its v2 cgroup. The thread ends with the fork, and so
// leaves both; the init's parent is another thread of this process then.
func startInto(cmd *osexec.Cmd, t *joinTarget) error {
	if t.cgroup != "" {
		fd, err := unix.Open(t.cgroup, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open its cgroup: %w", err)
		}
		defer unix.Close(fd)
		cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, fd
	}
	// See startDirect: os's pidfd probe must not be this thread's first fork.
	if p, err := os.FindProcess(os.Getpid()); err == nil {
		p.Release()
	}
	started := make(chan error)
	goLocked(func() {
		if err := joinTasks(t.tasks); err != nil {
			started <- err
			return
		}
		if err := setnsPidfd(t.pidfd, unix.CLONE_NEWPID); errors.Is(err, unix.EINVAL) {
			started <- errSetnsPidfd // before Linux 5.8
			return
		} else if err != nil {
			started <- fmt.Errorf("enter its PID namespace: %w", err)
			return
		}
		if err := cmd.Start(); err != nil {
			started <- fmt.Errorf("start the init: %w", err)
			return
		}
		started <- nil
		joinForked() // then this thread, the init's parent, ends
	})
	return <-started
}

// joinForked runs on the thread that forked a joined init, before that
// thread ends; tests hold the thread past the command's start with it.
var joinForked = func() {}

// signalJoined passes sig to the joined command: the process started,
// which the init becomes, or through nsenter (viaNsenter), nsenter's one
// child (nsenter forks into the PID namespace and waits for it). nsenter
// passes no signal on and dies of most, and the command, whose
// parent-death signal is SIGKILL, died with it instead of getting the
// signal. Before nsenter has forked, nsenter gets the signal.
func signalJoined(p *os.Process, sig syscall.Signal, viaNsenter bool) {
	if !viaNsenter {
		p.Signal(sig)
		return
	}
	if fd, ok := onlyChild(p.Pid); ok {
		err := unix.PidfdSendSignal(fd, sig, nil, 0)
		unix.Close(fd)
		if err == nil {
			return
		}
	}
	p.Signal(sig)
}

// onlyChild returns a pidfd of pid's child if it has exactly one.
func onlyChild(pid int) (int, bool) {
	p := strconv.Itoa(pid)
	b, err := os.ReadFile("/proc/" + p + "/task/" + p + "/children")
	f := strings.Fields(string(b))
	if err != nil || len(f) != 1 {
		return -1, false
	}
	child, err := strconv.Atoi(f[0])
	if err != nil {
		return -1, false
	}
	fd, err := unix.PidfdOpen(child, 0)
	if err != nil {
		return -1, false
	}
	// The child may have ended, and its pid been taken, before the
	// pidfd was opened: the process it holds must still be pid's child.
	if ParentOf(child) != pid {
		unix.Close(fd)
		return -1, false
	}
	return fd, true
}

// ParentOf returns pid's parent, or -1.
func ParentOf(pid int) int {
	_, ppid := procStat(pid)
	return ppid
}

// LiveParentOf returns pid's parent, or -1, also when pid has ended and
// is a zombie its parent has not reaped yet: no process to join.
func LiveParentOf(pid int) int {
	state, ppid := procStat(pid)
	if state == 'Z' || state == 'X' {
		return -1
	}
	return ppid
}

// procStat returns pid's state and parent from /proc/PID/stat, or 0, -1.
func procStat(pid int) (state byte, ppid int) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, -1
	}
	// pid (comm) state ppid ...: comm may hold spaces and parentheses.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 2 || len(f[0]) != 1 {
		return 0, -1
	}
	ppid, err = strconv.Atoi(f[1])
	if err != nil {
		return 0, -1
	}
	return f[0][0], ppid
}

// cgroupProcsOf lists the cgroup.procs files of every cgroup pid is in.
func cgroupProcsOf(pid int) ([]string, error) {
	cgs, err := readProcCgroups("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return nil, fmt.Errorf("container pid %d: %w", pid, err)
	}
	var out []string
	for _, c := range cgs {
		if c.path == "/" {
			continue
		}
		var dir string
		switch {
		case c.controllers == "" && c.id == "0":
			dir = cgroupV2Mount()
		case strings.HasPrefix(c.controllers, "name="):
			continue
		default:
			dir = "/sys/fs/cgroup/" + strings.Split(c.controllers, ",")[0]
		}
		if dir == "" {
			continue
		}
		if _, err := os.Stat(dir + c.path); err == nil {
			out = append(out, dir+c.path+"/cgroup.procs")
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("container pid %d: no cgroup of its own", pid)
	}
	return out, nil
}

func cgroupV2Mount() string {
	for _, d := range []string{"/sys/fs/cgroup/unified", "/sys/fs/cgroup"} {
		if _, err := os.Stat(d + "/cgroup.controllers"); err == nil {
			return d
		}
	}
	return ""
}
