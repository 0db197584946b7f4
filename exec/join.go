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
// Privileged, CapAdd, CapDrop, Stdin, Stdout, Stderr and Terminal (a pty
// opened in the container's devpts, as Run's, sized like the caller's
// terminal, which goes raw meanwhile).
//
// Where it can, a thread of this process enters the container and forks
// the command (joindirect.go). Elsewhere the namespaces are entered by
// util-linux nsenter, which then executes the sealed init binary in join
// mode inside them:
//
//	strata-init (joincg: host side; moves itself into the cgroups)
//	  -> execve nsenter -t PID -m -u -i -n -p -C   (forks into the PID namespace)
//	     -> execve /proc/self/fd/N (join: confines itself as the container
//	        init does after pivot_root, then execve the command)
func Join(ctx context.Context, pid int, spec Spec) (int, error) {
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
		GroupAdd: spec.GroupAdd, Privileged: spec.Privileged, Caps: caps, Joined: true}
	if !spec.Privileged {
		if cfg.Seccomp, err = seccompBytes(caps); err != nil {
			return CodeRuntime, runtimeErr("%w", err)
		}
	}
	t, direct, err := directJoinTarget(pid)
	if err != nil {
		return CodeRuntime, runtimeErr("%w", err)
	}
	if direct {
		code, err := joinDirect(ctx, t, &spec, cfg)
		if !errors.Is(err, errSetnsPidfd) {
			return code, err
		}
	}
	return joinFromInit(ctx, pid, spec, cfg)
}

// joinFromInit runs cfg in the container of pid through nsenter and the
// init (see Join).
func joinFromInit(ctx context.Context, pid int, spec Spec, cfg *initConfig) (int, error) {
	nsenter, err := osexec.LookPath("nsenter")
	if err != nil {
		return CodeRuntime, runtimeErr("nsenter (util-linux) is needed to join a container: %w", err)
	}
	procs, err := cgroupProcsOf(pid)
	if err != nil {
		return CodeRuntime, runtimeErr("%w", err)
	}
	exe, err := initExe(holdsSysAdmin(&spec))
	if err != nil {
		return CodeRuntime, runtimeErr("%w", err)
	}
	// The init is executed inside the container's mount namespace, where
	// the host's dynamic loader is not. (The installed init is an O_PATH
	// mount: read it through a new open file description.)
	r, err := os.Open("/proc/self/fd/" + strconv.Itoa(int(exe.Fd())))
	if err != nil {
		return CodeRuntime, runtimeErr("%w", err)
	}
	defer r.Close()
	if f, err := elf.NewFile(r); err == nil {
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				return CodeRuntime, runtimeErr("joining a container needs a static init binary (the strata that make build makes embeds one)")
			}
		}
	}
	cfgR, cfgW, err := os.Pipe()
	if err != nil {
		return CodeRuntime, runtimeErr("%w", err)
	}
	defer cfgW.Close()
	statR, statW, err := os.Pipe()
	if err != nil {
		cfgR.Close()
		return CodeRuntime, runtimeErr("%w", err)
	}
	defer statR.Close()
	self := "/proc/self/fd/5" // exe, the third extra file
	args := append([]string{"strata-join", nsenter, "-t", strconv.Itoa(pid),
		"-m", "-u", "-i", "-n", "-p", "-C", "--", self}, procs...)
	files := []*os.File{cfgR, statW, exe}
	t := &container{spec: &spec, ttyFd: -1}
	defer t.close()
	var ttyParent *os.File
	if spec.Terminal {
		if ttyParent, err = terminalSocket(t); err != nil {
			cfgR.Close()
			statW.Close()
			return CodeRuntime, err
		}
		defer ttyParent.Close()
		t.sizeTerminal(cfg)
		files = append(files, t.ttyChild) // fdJoinTTY
	}
	cmd := &osexec.Cmd{
		Path:        self,
		Args:        args,
		Env:         []string{envMode + "=joincg"},
		ExtraFiles:  files,
		SysProcAttr: &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL},
	}
	if !spec.Terminal {
		cmd.Stdin, cmd.Stdout, cmd.Stderr = spec.Stdin, spec.Stdout, spec.Stderr
	}
	t.cmd = cmd
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, forwarded...)
	defer signal.Stop(sigs)
	err = cmd.Start()
	for _, f := range files[:2] {
		f.Close()
	}
	if t.ttyChild != nil {
		t.ttyChild.Close()
	}
	if err != nil {
		return CodeRuntime, runtimeErr("start: %w", err)
	}
	if _, err := cfgW.Write(cfg.encode()); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return CodeRuntime, runtimeErr("send config: %w", err)
	}
	cfgW.Close()
	if spec.Terminal {
		// EOF: the joined init failed before its terminal; its status says why.
		if t.master, err = recvMaster(ttyParent); err != nil && err != io.EOF {
			cmd.Process.Kill()
			cmd.Wait()
			return CodeRuntime, runtimeErr("%w", err)
		}
		if t.master != nil {
			t.startTerminalIO()
		}
	}
	// The status pipe stays open in nsenter until the command ends: read
	// it beside the wait, not before.
	status := make(chan []byte, 1)
	go func() { b, _ := io.ReadAll(statR); status <- b }()
	done, forwarder := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(forwarder)
		for {
			select {
			case s := <-sigs:
				if s == unix.SIGWINCH {
					if t.master != nil && t.ttyFd >= 0 {
						copySize(t.ttyFd, t.master)
					}
					continue
				}
				signalJoined(cmd.Process, s.(syscall.Signal))
			case <-ctx.Done():
				signalJoined(cmd.Process, syscall.SIGKILL)
				cmd.Process.Kill()
				return
			case <-done:
				return
			}
		}
	}()
	werr := cmd.Wait()
	close(done)
	<-forwarder // it uses the pty master, which t.close releases
	if t.output != nil {
		// What the command wrote before it ended. A child it left behind
		// may hold the terminal open: that one's output is not waited for.
		select {
		case <-t.output:
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

// signalJoined passes sig to the joined command, nsenter's one child
// (nsenter forks into the PID namespace and waits for it). nsenter passes
// no signal on and dies of most, and the command, whose parent-death
// signal is SIGKILL, died with it instead of getting the signal. Before
// nsenter has forked, nsenter gets the signal.
func signalJoined(nsenter *os.Process, sig syscall.Signal) {
	if fd, ok := onlyChild(nsenter.Pid); ok {
		err := unix.PidfdSendSignal(fd, sig, nil, 0)
		unix.Close(fd)
		if err == nil {
			return
		}
	}
	nsenter.Signal(sig)
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
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return -1
	}
	// pid (comm) state ppid ...: comm may hold spaces and parentheses.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 2 {
		return -1
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return -1
	}
	return ppid
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
