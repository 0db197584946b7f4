//go:build !strata_init

package exec

import (
	"io"
	"os"
	osexec "os/exec"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// initGodebug keeps the init's Go runtime from holding its cgroup's CPU
// limit files open (cpu.cfs_quota_us and cpu.cfs_period_us, cpu.max on
// v2: Go 1.25's container-aware GOMAXPROCS keeps them to follow changes).
// It opens them when it starts, on the host's cgroup mount, and with Init
// the init lives on as pid 1: a container allowed to ptrace it
// (CAP_SYS_PTRACE) reopened them for writing through /proc/1/fd and lifted
// the CPU quota of the cgroup strata ran in. containermaxprocs=0 has the
// runtime close them after its one read; GOMAXPROCS=1 sets the number.
const initGodebug = "GODEBUG=containermaxprocs=0"

// launched is an init that has been started and waits for its config.
type launched struct {
	c         *container
	exe       *os.File // what the init was executed from
	cg        *cgroup  // v2: the cgroup the init was born in; its maker removes it
	cfgW      *os.File // the config goes here
	statR     *os.File // the init's report of a failure; EOF at its execve
	ttyParent *os.File // Terminal: the pty master comes back over it
}

// launch starts the init of a container of spec from exe (in cg, on cgroup
// v2). It waits for its config (configure) before it does anything.
func launch(spec *Spec, exe *os.File, cg *cgroup) (_ *launched, err error) {
	c := &container{spec: spec, ttyFd: -1}
	l := &launched{c: c, exe: exe, cg: cg}
	// files are the child's ends: the parent's copies go once the init
	// has started, or failed to.
	var files []*os.File
	var stdinW *os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
		if err != nil {
			l.closeFiles()
			if stdinW != nil {
				stdinW.Close()
			}
		}
	}()
	cfgR, cfgW, err := os.Pipe()
	if err != nil {
		return nil, runtimeErr("%w", err)
	}
	files, l.cfgW = append(files, cfgR), cfgW
	statR, statW, err := os.Pipe()
	if err != nil {
		return nil, runtimeErr("%w", err)
	}
	files, l.statR = append(files, statW), statR
	if spec.Terminal {
		if l.ttyParent, err = terminalSocket(c); err != nil {
			return nil, err
		}
		files = append(files, c.ttyChild)
	}

	child, err := ChildSetting(cfgR.Fd())
	if err != nil {
		return nil, runtimeErr("%w", err)
	}
	flags := uintptr(unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC)
	if newNet(spec) {
		flags |= unix.CLONE_NEWNET
	}
	sys := &syscall.SysProcAttr{Cloneflags: flags, Setsid: true, Pdeathsig: syscall.SIGKILL}
	if os.Geteuid() != 0 {
		setUserNS(sys)
	}
	// The sealed init is executed as the child's last extra file, under the
	// number it has there: the parent's own number for it may be reused by
	// os/exec for another of the child's fds before the exec (golang/go#61751,
	// as runc found), and the child would then execute a pipe or a tty.
	c.cmd = &osexec.Cmd{
		Path:        "/proc/self/fd/" + strconv.Itoa(3+len(files)),
		Args:        []string{"strata-init"},
		Env:         []string{envMode + "=init", child, "GOMAXPROCS=1", initGodebug}, // one thread runs the steps: fewer start, fewer to end at execve
		ExtraFiles:  append(files[:len(files):len(files)], exe),
		SysProcAttr: sys,
		WaitDelay:   5 * time.Second, // only a guard: output ends when pid 1 does
	}
	if !spec.Terminal {
		c.cmd.Stdin, c.cmd.Stdout, c.cmd.Stderr = spec.Stdin, spec.Stdout, spec.Stderr
		if needsPump(spec.Stdin) {
			r, w, err := os.Pipe()
			if err != nil {
				return nil, runtimeErr("%w", err)
			}
			c.cmd.Stdin, stdinW = r, w
			files = append(files, r)
		}
	}
	if cg != nil && cg.v2 {
		// Start the init inside its cgroup: no migration afterwards,
		// which would wait for an RCU grace period (see writeProcs).
		fd, err := unix.Open(cg.dirs[0], unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, runtimeErr("open cgroup: %w", err)
		}
		defer unix.Close(fd)
		sys.UseCgroupFD, sys.CgroupFD = true, fd
	}
	c.reaped = make(chan struct{})
	if err := startHeld(c.cmd, c.reaped); err != nil {
		return nil, runtimeErr("start init: %w", err)
	}
	if stdinW != nil {
		go pump(stdinW, spec.Stdin)
	}
	return l, nil
}

// startHeld starts cmd from a thread held until reaped is closed. A
// parent-death signal (the init's SIGKILL) follows the thread that forked,
// not the process, and Go ends a thread whose goroutine exits locked to
// it (goLocked's, after a join): an init forked from whichever thread ran
// the start died when that thread was later taken and ended, and its
// container with it.
func startHeld(cmd *osexec.Cmd, reaped <-chan struct{}) error {
	started := make(chan error)
	go func() {
		runtime.LockOSThread()
		err := cmd.Start()
		started <- err
		if err == nil {
			<-reaped
		}
		runtime.UnlockOSThread() // nothing of the thread was changed
	}()
	return <-started
}

// needsPump reports whether stdin must reach the container through a pipe
// that strata fills itself (pump): os/exec would copy a reader that is not
// a file on its own, and make Wait wait for it, which may never end, after
// the container has exited.
func needsPump(stdin io.Reader) bool {
	_, isFile := stdin.(*os.File)
	return stdin != nil && !isFile
}

// pump copies src into w until EOF, or EPIPE once the container is gone.
func pump(w *os.File, src io.Reader) {
	io.Copy(w, src)
	w.Close()
}

// newNet reports whether spec's container gets a network namespace.
func newNet(spec *Spec) bool {
	return spec.Network == NetworkNone || spec.Network == NetworkPrivate
}

func (l *launched) closeFiles() {
	for _, f := range []*os.File{l.cfgW, l.statR, l.ttyParent} {
		if f != nil {
			f.Close()
		}
	}
}

// abort kills an init that was never configured and waits for it.
func (l *launched) abort() {
	l.c.cmd.Process.Kill()
	l.c.waitCmd()
	l.closeFiles()
	l.c.close()
}

// configure calls setup with the init's pid, sends the init cfg and waits
// until the user's command runs. The container is spec's (the one l was
// launched for, or one alike: see Early). On failure the init is killed.
func (l *launched) configure(spec *Spec, cfg *initConfig, setup func(pid int) error) (_ *container, err error) {
	c := l.c
	c.spec = spec
	defer l.closeFiles()
	defer func() {
		if err != nil {
			c.cmd.Process.Kill()
			c.waitCmd()
			c.close()
		}
	}()
	if spec.Terminal {
		c.sizeTerminal(cfg)
	}
	if err := setup(c.cmd.Process.Pid); err != nil {
		return nil, err
	}
	if spec.Network == NetworkPrivate {
		// The init waits for its config: the network is up before the
		// user's command runs.
		if c.net, err = setupPrivateNet(c.cmd.Process.Pid); err != nil {
			return nil, runtimeErr("network private: %w", err)
		}
	}
	if _, err := l.cfgW.Write(cfg.encode()); err != nil {
		return nil, runtimeErr("send config: %w", err)
	}
	l.cfgW.Close()

	if spec.Terminal {
		if c.master, err = recvMaster(l.ttyParent); err != nil && err != io.EOF {
			return nil, runtimeErr("%w", err)
		}
	}
	// The status pipe closes on execve of the user's process; anything
	// written to it first is the init's report of a failure (one line:
	// statusLimit bounds it).
	status, _ := io.ReadAll(io.LimitReader(l.statR, statusLimit))
	if len(status) > 0 {
		return nil, statusError(status, "start container: ")
	}
	if spec.Terminal && c.master == nil {
		return nil, runtimeErr("container init exited before its terminal was set up")
	}
	if c.master != nil {
		c.startTerminalIO()
	}
	return c, nil
}
