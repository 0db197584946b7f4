package exec

import (
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// forwarded are the signals strata passes on to the container.
var forwarded = []os.Signal{
	unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT,
	unix.SIGUSR1, unix.SIGUSR2, unix.SIGWINCH,
}

// runPid1 is the tiny init (Spec.Init): it confines itself like the user's
// process would be, starts that process as its child, forwards signals to
// it, reaps every zombie and exits with the child's status.
func runPid1(cfg *initConfig, argv0 string, env []string, prog []unix.SockFilter) (int, error) {
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, forwarded...)
	if err := closeInherited(); err != nil {
		return CodeRuntime, fmt.Errorf("start container: %w", err)
	}
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return CodeRuntime, fmt.Errorf("start container: close_range: %w", err)
	}
	if prog != nil {
		// TSYNC: every thread of this Go process gets the filter.
		fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
		if _, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
			unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&fprog))); e != 0 {
			return CodeRuntime, fmt.Errorf("start container: load seccomp filter: %w", e)
		}
	}
	var pid int
	var err error
	if len(cfg.Rlimits) > 0 {
		pid, err = forkLimited(&limitedCommand{Path: argv0, Args: cfg.Args, Env: env, Rlimits: cfg.Rlimits}, cfg.Terminal)
		if err != nil {
			return CodeRuntime, err
		}
	} else {
		pid, err = syscall.ForkExec(argv0, cfg.Args, &syscall.ProcAttr{
			Env:   env,
			Files: []uintptr{0, 1, 2},
			Sys:   &syscall.SysProcAttr{Setsid: true, Setctty: cfg.Terminal, Ctty: 0},
		})
		if err != nil {
			return execFailure(cfg.Args[0], err)
		}
	}
	unix.Close(fdStatus) // started: the parent sees EOF
	return superviseChild(pid, sigs, true)
}

// closeInherited closes every descriptor above stderr without
// close-on-exec but fdStatus: those the parent handed the init and it no
// longer needs (the init binary's), and those strata's caller left open
// without close-on-exec, which strata never opened and so passed on.
// Pid 1 lives on beside the command, and a container allowed to ptrace it
// (CAP_SYS_PTRACE) could open each through /proc/1/fd. Go's runtime opens
// its own with close-on-exec, and the init keeps none of these in an
// *os.File, whose finalizer would close the number again.
func closeInherited() error {
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return err
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return fmt.Errorf("/proc/self/fd: %w", err)
	}
	for _, name := range names {
		fd, err := strconv.Atoi(name)
		if err != nil || fd <= 2 || fd == fdStatus {
			continue
		}
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err == nil && flags&unix.FD_CLOEXEC == 0 {
			unix.Close(fd)
		}
	}
	return nil
}

// statusCode maps a wait status to a shell exit code: 128+N for signal N.
func statusCode(ws unix.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// superviseChild forwards sigs to pid until it exits, then exits with
// its status (128+N for signal N, as statusCode). reapAll: as pid 1, it
// reaps every child (orphans of the container are re-parented to it),
// else only pid.
func superviseChild(pid int, sigs <-chan os.Signal, reapAll bool) (int, error) {
	exited := make(chan int, 1)
	go func() {
		wanted := pid
		if reapAll {
			wanted = -1
		}
		for {
			var ws unix.WaitStatus
			wpid, err := unix.Wait4(wanted, &ws, 0, nil)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				exited <- CodeRuntime
				return
			}
			if wpid == pid {
				exited <- statusCode(ws)
				return
			}
		}
	}()
	for {
		select {
		case s := <-sigs:
			unix.Kill(pid, s.(syscall.Signal))
		case code := <-exited:
			os.Exit(code)
		}
	}
}
