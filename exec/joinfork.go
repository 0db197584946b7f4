package exec

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// On nsenter's way (join.go), the joined init stays in the host's PID
// namespace, where no process of the container can name it, and enters
// the container's PID namespace for its children only. It confines
// itself there as the container init does, every thread of it (user,
// bounding set, capabilities, no_new_privs: its other threads kept every
// capability, and the child before its execve hands a container that
// may ptrace the init's epoll descriptor, whose events the init's Go
// runtime takes for pointers of its own), then forks the command,
// which is the first process of this exec that the container can see,
// and waits for it. A process that appeared there before it was confined
// (nsenter's child, as it was) could be traced, or its /proc/PID/mem
// written, by a container holding CAP_SYS_PTRACE, and its root walked
// from: "/proc/PID/root/../.." led to the host's root.
//
// Go forks with CLONE_VM: the child would share this process's memory
// until its execve, and the container could write into it through the
// child. So the fork is a
// plain one, made here, and the child makes raw system calls only until
// its execve, as Go's own child does.

// forkArgs is what the forked child reads: all of it prepared before the
// fork, for the child can neither allocate nor call Go code.
type forkArgs struct {
	path     *byte
	argv     **byte
	envv     **byte
	errFd    uintptr // write end of the exec-error pipe (close-on-exec)
	terminal bool    // take fd 0 as the controlling terminal
	mask     uint64  // the signal mask the command starts with
	limits   []forkLimit
	reset    [65]bool
	dfl      kernelSigaction
	report   uint64 // stage<<32 | errno, written to errFd on failure
}

// forkLimit is a resource limit the child sets on itself (prlimit64).
type forkLimit struct {
	resource uintptr
	lim      unix.Rlimit
}

// kernelSigaction is the kernel's struct sigaction (amd64 and arm64).
type kernelSigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

// Stages of the child a failure report names.
const (
	forkStageExec = iota
	forkStageSetsid
	forkStageCtty
	forkStageLimit
)

// forkJoined forks the command (argv0, cfg.Args, env) from this confined
// thread without CLONE_VM, reports its start on fdStatus as an execve
// would, passes on the signals strata forwards and exits with the
// command's status (128+N for signal N, as statusCode). errPipe was made
// before the limits (--ulimit nofile) applied.
func forkJoined(cfg *initConfig, argv0 string, env []string, errPipe [2]int) (int, error) {
	a := &forkArgs{errFd: uintptr(errPipe[1]), terminal: cfg.Terminal}
	var err error
	if a.path, err = unix.BytePtrFromString(argv0); err != nil {
		return CodeRuntime, fmt.Errorf("start container: %w", err)
	}
	argv, err := syscall.SlicePtrFromStrings(cfg.Args)
	if err != nil {
		return CodeRuntime, fmt.Errorf("start container: %w", err)
	}
	envv, err := syscall.SlicePtrFromStrings(env)
	if err != nil {
		return CodeRuntime, fmt.Errorf("start container: %w", err)
	}
	a.argv, a.envv = &argv[0], &envv[0]
	for _, r := range cfg.Rlimits {
		a.limits = append(a.limits, forkLimit{uintptr(r.Resource), unix.Rlimit{Cur: r.Soft, Max: r.Hard}})
	}
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, forwarded...)
	// The handlers Go installed go back to the default in the child
	// before it unblocks signals; ignored ones stay ignored, as execve
	// leaves them.
	for sig := 1; sig < len(a.reset); sig++ {
		var old kernelSigaction
		_, _, e := syscall.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), 0, uintptr(unsafe.Pointer(&old)), 8, 0, 0)
		a.reset[sig] = e == 0 && old.handler > 1 // neither SIG_DFL nor SIG_IGN
	}
	all := ^uint64(0)
	syscall.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&all)), uintptr(unsafe.Pointer(&a.mask)), 8, 0, 0)
	pid, errno := rawForkExec(a)
	syscall.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&a.mask)), 0, 8, 0, 0)
	unix.Close(errPipe[1])
	if errno != 0 {
		return CodeRuntime, fmt.Errorf("start container: fork: %w", errno)
	}
	if code, err := childFailure(errPipe[0], pid, cfg.Args[0]); err != nil {
		return code, err
	}
	unix.Close(errPipe[0])
	unix.Close(fdStatus) // started: strata sees EOF, as at an execve
	return superviseChild(pid, sigs, false)
}

// childFailure reads the child's report from the exec-error pipe, once
// the child has executed or ended (rawForkExec's vfork waited for it):
// none there, its execve succeeded. The pipe is read without waiting for
// its end, which never comes while a process of the container that
// stopped the child before its execve holds a copy of its write end
// (pidfd_getfd), and the command, unreaped, held strata exec forever.
func childFailure(fd, pid int, name string) (int, error) {
	var b [8]byte
	if err := unix.SetNonblock(fd, true); err != nil {
		return CodeRuntime, fmt.Errorf("start container: %w", err)
	}
	n, err := unix.Read(fd, b[:])
	for err == unix.EINTR {
		n, err = unix.Read(fd, b[:])
	}
	if n < len(b) { // a report is written whole: 8 bytes are less than PIPE_BUF
		return 0, nil
	}
	var ws unix.WaitStatus
	unix.Wait4(pid, &ws, 0, nil)
	report := *(*uint64)(unsafe.Pointer(&b[0]))
	errno := syscall.Errno(uint32(report))
	switch report >> 32 {
	case forkStageSetsid:
		return CodeRuntime, fmt.Errorf("start container: setsid: %w", errno)
	case forkStageCtty:
		return CodeRuntime, fmt.Errorf("start container: set controlling terminal: %w", errno)
	case forkStageLimit:
		return CodeRuntime, fmt.Errorf("start container: --ulimit: %w", errno)
	}
	return execFailure(name, errno)
}

// rawForkExec forks without CLONE_VM, and returns once the child has
// executed or ended (CLONE_VFORK: its report, if any, is written); the
// child leads a session of its
// own (with the terminal, if any), dies with its parent, takes the
// command's resource limits (the parent raised the hard ones it may not
// raise itself: raiseHard), restores the
// default signal handlers and mask and executes the command, or reports
// why not on a.errFd and exits 127. It makes raw system calls only: the
// child of a threaded Go process must not run Go's runtime.
//
//go:nosplit
//go:norace
func rawForkExec(a *forkArgs) (int, syscall.Errno) {
	r, _, e := syscall.RawSyscall6(unix.SYS_CLONE, uintptr(unix.CLONE_VFORK|unix.SIGCHLD), 0, 0, 0, 0, 0)
	if e != 0 || r != 0 {
		return int(r), e
	}
	if _, _, e = syscall.RawSyscall6(unix.SYS_SETSID, 0, 0, 0, 0, 0, 0); e != 0 {
		a.report = forkStageSetsid<<32 | uint64(e)
		goto fail
	}
	if a.terminal {
		if _, _, e = syscall.RawSyscall6(unix.SYS_IOCTL, 0, unix.TIOCSCTTY, 0, 0, 0, 0); e != 0 {
			a.report = forkStageCtty<<32 | uint64(e)
			goto fail
		}
	}
	syscall.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0, 0)
	for i := 0; i < len(a.limits); i++ {
		l := &a.limits[i]
		if _, _, e = syscall.RawSyscall6(unix.SYS_PRLIMIT64, 0, l.resource, uintptr(unsafe.Pointer(&l.lim)), 0, 0, 0); e != 0 {
			a.report = forkStageLimit<<32 | uint64(e)
			goto fail
		}
	}
	for sig := 1; sig < len(a.reset); sig++ {
		if a.reset[sig] {
			syscall.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&a.dfl)), 0, 8, 0, 0)
		}
	}
	syscall.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&a.mask)), 0, 8, 0, 0)
	_, _, e = syscall.RawSyscall6(unix.SYS_EXECVE, uintptr(unsafe.Pointer(a.path)),
		uintptr(unsafe.Pointer(a.argv)), uintptr(unsafe.Pointer(a.envv)), 0, 0, 0)
	a.report = forkStageExec<<32 | uint64(e)
fail:
	syscall.RawSyscall6(unix.SYS_WRITE, a.errFd, uintptr(unsafe.Pointer(&a.report)), 8, 0, 0, 0)
	for {
		syscall.RawSyscall6(unix.SYS_EXIT_GROUP, 127, 0, 0, 0, 0, 0)
	}
}
