//go:build !strata_init

package exec

import (
	"bytes"
	"fmt"
	"os"
	osexec "os/exec"
	"runtime"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A direct start builds the container on a locked thread of this process
// and forks the command from that thread: no init binary is executed, so
// a start costs one Go process instead of two. (Where a page fault or a
// CPUID traps to the hypervisor, a Go process takes several milliseconds
// to start: see docs/runtime.md.)
//
// The thread joins the container's v1 cgroups (so that the cgroup
// namespace it creates is rooted there), unshares the namespaces (the PID
// namespace for its children), makes the mounts, pivots into the root and
// confines itself as the init confines the command: bounding set,
// inheritable and ambient capabilities cleared, no_new_privs, the seccomp
// filter. The command it forks inherits all of that.
//
// /proc must wait for the command: it shows the PID namespace of whoever
// mounts it, and the thread is not in the new one (only its children
// are). So the command is forked traced (PTRACE_TRACEME) and stops at its
// execve, before its first instruction. A second throwaway thread enters
// the container's mount namespace, mounts /proc for the command's PID
// namespace (proc's pidns option, Linux 6.15) and masks its paths (the
// first thread's filter now refuses mounts). Then the first thread leaves
// the container's cgroups and detaches, and the command runs. That thread
// stays, blocked, until the command has been waited for: the command's
// parent-death signal is tied to the thread that forked it.
//
// Run uses the init (launch.go) where this cannot work: without root
// (rootless containers need a user namespace, which a thread of a
// threaded process cannot enter), with Init (the tiny pid 1 is the init),
// on cgroup v2 (a thread cannot join a v2 cgroup alone), on kernels
// without proc's pidns option, and when strata is itself traced (strace -f
// would hold the command, which then cannot be traced by strata). Where
// PTRACE_TRACEME is refused, the fork fails before the command ran, and
// Run starts the same container from the init (errTraceRefused).

// directStarts is false in tests that run the init's path on a machine
// where direct starts work.
var directStarts = true

// directUsable reports whether spec's container can start directly.
func directUsable(spec *Spec) bool {
	// Rlimits are set on the init before it executes the command;
	// sysctls by the init, in the container's namespaces (a direct
	// start's thread that mounts /proc is in the host's network one).
	return directStarts && os.Geteuid() == 0 && !spec.Init && len(spec.Rlimits) == 0 && len(spec.Sysctls) == 0 &&
		!cgroupV2() && procTakesPidns() && !traced()
}

// procTakesPidns reports whether proc can be mounted for a PID namespace
// other than the mounter's (Linux 6.15).
var procTakesPidns = sync.OnceValue(func() bool {
	fs, err := unix.Fsopen("proc", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return false
	}
	defer unix.Close(fs)
	ns, err := unix.Open("/proc/self/ns/pid", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(ns)
	return unix.FsconfigSetFd(fs, "pidns", ns) == nil
})

// traced reports whether a tracer was attached to this process when
// first asked: the kernel writes all of /proc/self/status for it, and Run
// asks twice. One that attaches later makes the command's PTRACE_TRACEME
// fail, and Run starts it from the init then (errTraceRefused).
var traced = sync.OnceValue(func() bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return true
	}
	_, rest, ok := bytes.Cut(b, []byte("\nTracerPid:\t"))
	return !ok || !bytes.HasPrefix(rest, []byte("0\n"))
})

// startDirect starts the container of spec and cfg (its cgroup and /etc
// files made, see Run) from a new locked thread, and returns it running.
func startDirect(spec *Spec, cfg *initConfig) (*container, error) {
	c := &container{spec: spec, ttyFd: -1, reaped: make(chan struct{})}
	if spec.Terminal {
		c.pickTerminal()
		c.sizeTerminal(cfg)
	}
	// The first fork of a process is os's own probe of pidfd support, a
	// child that exits at once. Made from the thread below, it would be pid
	// 1 of the new PID namespace, which would die with it. FindProcess
	// makes that probe here.
	if p, err := os.FindProcess(os.Getpid()); err == nil {
		p.Release()
	}
	started := make(chan error)
	reaped := c.reaped
	goLocked(func() {
		err := c.startOnThread(cfg)
		started <- err
		if err == nil {
			<-reaped
		}
	})
	if err := <-started; err != nil {
		return nil, err
	}
	if c.master != nil {
		c.startTerminalIO()
	}
	return c, nil
}

// goLocked runs f on a new goroutine locked to a thread of its own, never
// unlocked: f may change the thread's namespaces, root, credentials or
// filter, and the thread ends with f. Never the main thread: /proc/<pid>
// shows the main thread's namespaces and root as the process's (its
// mountinfo, its root), and Go never ends that thread.
func goLocked(f func()) {
	go func() {
		runtime.LockOSThread()
		if unix.Gettid() != unix.Getpid() {
			f()
			return
		}
		// While this goroutine holds the main thread, the next one
		// cannot get it.
		locked := make(chan struct{})
		go func() {
			runtime.LockOSThread()
			close(locked)
			f()
		}()
		<-locked
		runtime.UnlockOSThread()
	}()
}

// startOnThread builds the container on the calling (locked) thread and
// starts its command. On failure nothing of the container runs.
func (c *container) startOnThread(cfg *initConfig) (err error) {
	back, err := ownTasks(cfg.JoinTasks)
	if err != nil {
		return runtimeErr("%w", err)
	}
	defer closeFds(back)
	restorePids, err := raisePidsMax(cfg.JoinTasks, c.spec.Resources.PidsLimit)
	if err != nil {
		return runtimeErr("%w", err)
	}
	defer restorePids() // on failure; once done, a no-op
	if err := joinTasks(cfg.JoinTasks); err != nil {
		return runtimeErr("%w", err)
	}
	flags := unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWPID | unix.CLONE_NEWCGROUP
	if cfg.NewNet {
		flags |= unix.CLONE_NEWNET
	}
	if err := unix.Unshare(flags); err != nil {
		return runtimeErr("unshare: %w", err)
	}
	waitNet := c.connectNet()
	defer func() {
		if nerr := waitNet(); nerr != nil && err == nil {
			err = runtimeErr("network private: %w", nerr)
		}
	}()
	mntns, err := unix.Open("/proc/thread-self/ns/mnt", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return runtimeErr("%w", err)
	}
	defer unix.Close(mntns)
	if err := buildRoot(cfg, false); err != nil {
		return runtimeErr("%w", err)
	}
	cmd, slave, err := c.commandInRoot(cfg)
	if err != nil {
		return err
	}
	if slave != nil {
		defer slave.Close()
		defer c.dropMasterOnError(&err)
	}
	if err := waitNet(); err != nil {
		return runtimeErr("network private: %w", err)
	}
	root, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0) // the container's, since pivot_root
	if err != nil {
		return runtimeErr("%w", err)
	}
	defer unix.Close(root)
	if err := confineThread(cfg); err != nil {
		return runtimeErr("%w", err)
	}
	stdinW, err := c.command(cfg, cmd, slave)
	if err != nil {
		return err
	}
	if err := c.releaseCommand(mntns, root, back, restorePids, cfg.Privileged); err != nil {
		c.cmd.Process.Kill()
		c.cmd.Wait()
		if stdinW != nil {
			stdinW.Close()
		}
		return err
	}
	if stdinW != nil {
		go pump(stdinW, c.spec.Stdin)
	}
	return nil
}

// commandInRoot resolves cfg's user and command in the calling thread's
// root (the container's), enters its working directory and, with
// cfg.Terminal, opens its pty there: c.master, and the slave it returns.
// Its errors carry the exit code to report.
func (c *container) commandInRoot(cfg *initConfig) (command, *os.File, error) {
	// The working directory first: a relative command is found from it.
	if err := enterCwd(cfg); err != nil {
		return command{}, nil, &ExitError{Code: CodeRuntime, Err: err}
	}
	cmd, code, err := resolveCommand(cfg)
	if err != nil {
		return cmd, nil, &ExitError{Code: code, Err: err}
	}
	unix.Umask(0o022) // this thread's own: it unshared its fs context
	if !cfg.Terminal {
		return cmd, nil, nil
	}
	m, s, err := openTerminal(cfg, cmd.cred)
	if err != nil {
		return cmd, nil, runtimeErr("%w", err)
	}
	c.master = os.NewFile(uintptr(m), "pty-master")
	return cmd, os.NewFile(uintptr(s), "pty-slave"), nil
}

// dropMasterOnError closes the pty master commandInRoot opened if *err
// says the start failed: no command will use it.
func (c *container) dropMasterOnError(err *error) {
	if *err != nil && c.master != nil {
		c.master.Close()
		c.master = nil
	}
}

// connectNet, for a private network, connects the calling thread's new
// network namespace to the host on another thread (netlink sockets belong
// to the namespace of the thread that opens them) while this one goes on.
// The function it returns waits for that, and may be called again.
func (c *container) connectNet() func() error {
	if c.spec.Network != NetworkPrivate {
		return func() error { return nil }
	}
	done := make(chan error, 1)
	tid := unix.Gettid()
	go func() {
		n, err := setupPrivateNet(tid)
		c.net = n
		done <- err
	}()
	return sync.OnceValue(func() error { return <-done })
}

// confineThread confines the calling thread, and so the command it forks,
// as startProcess confines the init: what it does not do here, the fork
// does (credentials, the parent-death signal).
func confineThread(cfg *initConfig) error {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	if err := dropBounding(capMap(cfg.Caps), syscall.RawSyscall6); err != nil {
		return err
	}
	// The command's capabilities after execve are its bounding set (root)
	// or none (any other user), plus the inheritable set: clear that.
	if err := clearInheritable(); err != nil {
		return err
	}
	// No descriptor of strata's caller survives the command's execve
	// (strata's own are all close-on-exec).
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return fmt.Errorf("close_range: %w", err)
	}
	if len(cfg.Seccomp) > 0 {
		return loadSeccomp(seccompFromBytes(cfg.Seccomp))
	}
	return nil
}

// clearInheritable empties the calling thread's inheritable capabilities,
// keeping the rest.
func clearInheritable() error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capget: %w", err)
	}
	data[0].Inheritable, data[1].Inheritable = 0, 0
	if _, _, e := syscall.RawSyscall(unix.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0); e != 0 {
		return fmt.Errorf("capset: %w", e)
	}
	return nil
}

// command forks the user's command from the calling thread. A started
// container's stops at its execve (traced) and dies with the thread. A
// joined one runs at once, and outlives a strata killed by SIGKILL as
// docker exec's and crun exec's do (until its container stops): Go's
// fork kills a child whose parent-death signal is set but whose parent
// it cannot see, and a joined command's parent is outside its PID
// namespace. (A started one is its namespace's pid 1, which ignores it.)
func (c *container) command(cfg *initConfig, cmd command, slave *os.File) (stdinW *os.File, err error) {
	sys := &syscall.SysProcAttr{
		Setsid:     true,
		Credential: &syscall.Credential{Uid: cmd.cred.UID, Gid: cmd.cred.GID, Groups: cmd.cred.Groups},
	}
	if !c.joined {
		sys.Ptrace, sys.Pdeathsig = true, syscall.SIGKILL
	}
	c.cmd = &osexec.Cmd{
		Path: cmd.argv0, Args: cfg.Args, Env: cmd.env, SysProcAttr: sys,
		WaitDelay: 5 * time.Second, // only a guard: output ends when the command does
	}
	if slave != nil {
		c.cmd.Stdin, c.cmd.Stdout, c.cmd.Stderr = slave, slave, slave
		sys.Setctty, sys.Ctty = true, 0
	} else {
		c.cmd.Stdin, c.cmd.Stdout, c.cmd.Stderr = c.spec.Stdin, c.spec.Stdout, c.spec.Stderr
		if needsPump(c.spec.Stdin) {
			r, w, err := os.Pipe()
			if err != nil {
				return nil, runtimeErr("%w", err)
			}
			defer r.Close()
			c.cmd.Stdin, stdinW = r, w
		}
	}
	if err := c.cmd.Start(); err != nil {
		if stdinW != nil {
			stdinW.Close()
		}
		return nil, forkFailure(cfg.Args[0], err)
	}
	return stdinW, nil
}
