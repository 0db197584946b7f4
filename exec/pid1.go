package exec

import (
	"fmt"
	"os"
	"os/signal"
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
	exited := make(chan int, 1)
	go func() {
		for {
			var ws unix.WaitStatus
			wpid, err := unix.Wait4(-1, &ws, 0, nil)
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

// statusCode maps a wait status to a shell exit code: 128+N for signal N.
func statusCode(ws unix.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}
