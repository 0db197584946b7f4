package exec

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// joinCgroups (host side, mode joincg) moves this process into the
// container's cgroups, then becomes nsenter; args are nsenter's argv
// (from its path up to "--" and the program) followed by cgroup.procs files.
func joinCgroups() {
	args := os.Args[1:]
	end := 0
	for i, a := range args {
		if a == "--" {
			end = i + 2
			break
		}
	}
	if end == 0 || end > len(args) {
		os.Exit(CodeRuntime)
	}
	if err := closeInheritedAbove(args[0]); err != nil {
		failInit(CodeRuntime, fmt.Errorf("join container: %w", err))
	}
	for _, p := range args[end:] {
		if err := os.WriteFile(p, []byte("0"), 0); err != nil {
			failInit(CodeRuntime, fmt.Errorf("join container: join cgroup %s: %w", p, err))
		}
	}
	// nsenter keeps the config pipe at fd 3: the joined init is strata's
	// child as this one is.
	child, err := ChildSetting(childFd)
	if err != nil {
		failInit(CodeRuntime, fmt.Errorf("join container: %w", err))
	}
	err = unix.Exec(args[0], args[:end], []string{envMode + "=join", child})
	failInit(CodeRuntime, fmt.Errorf("join container: exec nsenter: %w", err))
}

// closeInheritedAbove closes every descriptor above the last one strata
// passed (the PID namespace's, two after nsenter's binary, which
// nsenterPath names): those strata's caller left open without
// close-on-exec. The command's execve would close them, but the joined
// init forks it into the container's PID namespace first, and until that
// execve a process of the container holding CAP_SYS_PTRACE (the reason
// for nsenter's way) could stop it and reopen them through
// /proc/PID/fd: a directory of the host there is a way out of the
// container. Closed here, on the host side, for nsenter would pass them
// on too.
func closeInheritedAbove(nsenterPath string) error {
	fd, err := strconv.Atoi(strings.TrimPrefix(nsenterPath, "/proc/self/fd/"))
	if err != nil || fd < fdJoinTTY {
		return fmt.Errorf("nsenter path %q", nsenterPath)
	}
	// After nsenter's: the root, the PID namespace and the namespaces
	// nsenter enters (joinFromInit).
	if err := unix.CloseRange(uint(fd+3+len(namespaceKinds)), ^uint(0), 0); err != nil {
		return fmt.Errorf("close inherited descriptors: %w", err)
	}
	return nil
}

// joinedInit runs inside the container's namespaces but the PID one
// (mode join, after nsenter), or enters them first through the pidfd it
// is given (mode joinfd: born in the container's cgroups and PID
// namespace, see Join). It confines itself as the container init does
// after pivot_root, and executes the command (joinfd) or forks it into
// the container's PID namespace (join, joinfork.go).
func joinedInit(byPidfd bool) {
	runtime.LockOSThread()
	unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&[]byte("strata-exec\x00")[0])), 0, 0, 0)
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		failInit(CodeRuntime, fmt.Errorf("join container: set non-dumpable: %w", err))
	}
	cfg, err := readConfig(fdConfig)
	if err == errWireSignature {
		failInit(CodeRuntime, fmt.Errorf("join container: %w", err))
	}
	if err != nil {
		os.Exit(CodeRuntime)
	}
	unix.Close(fdConfig)
	last := fdJoinTTY // the pidfd (joinfd) or the status socket (join)
	if cfg.Terminal {
		last++
	}
	var fork *[2]int
	if byPidfd {
		enterByPidfd(last)
	} else {
		enterRoot(last + 2) // after the status socket and nsenter's binary
		enterPidNamespace(last + 3)
		// Neither nsenter's binary nor, without a terminal, the init's
		// (fdTTY) goes to the command's fork (see closeInheritedAbove).
		unix.Close(last + 1)
		for i := range namespaceKinds {
			unix.Close(last + 4 + i) // those nsenter entered
		}
		if !cfg.Terminal {
			unix.Close(fdTTY)
		}
		ownStatus(last)
		// Made now: a low --ulimit nofile applies before the fork.
		fork = new([2]int)
		if err := unix.Pipe2(fork[:], unix.O_CLOEXEC); err != nil {
			failInit(CodeRuntime, fmt.Errorf("join container: pipe: %w", err))
		}
	}
	if cfg.Terminal {
		// The pty master goes back over fdJoinTTY (fdTTY is the sealed
		// binary nsenter executed, no longer needed).
		if err := unix.Dup3(fdJoinTTY, fdTTY, unix.O_CLOEXEC); err != nil {
			failInit(CodeRuntime, fmt.Errorf("join container: terminal socket: %w", err))
		}
		unix.Close(fdJoinTTY)
	}
	// A session of its own, as Run's command and the thread's way have:
	// in the caller's (a child of strata here), the caller's terminal is
	// the command's controlling one, and the container's program could
	// push input into the caller's shell (TIOCSTI). With Terminal, its
	// pty becomes the controlling one. On nsenter's way the command this
	// process forks leads a session of its own again (rawForkExec).
	if _, err := unix.Setsid(); err != nil {
		failInit(CodeRuntime, fmt.Errorf("join container: setsid: %w", err))
	}
	// No parent-death signal on the pidfd way: the parent is a strata
	// thread that ends right after the fork (startInto), and the signal
	// would kill the command whenever that end came after it was set.
	code, err := startProcess(cfg, !byPidfd, fork)
	failInit(code, err)
}

// ownStatus gives this process a status pipe of its own: nsenter holds
// the one it was given until the command ends, so that pipe's end does
// not say the command runs. The read end of the new one goes back over
// the socket sock; its write end takes fdStatus's place, and closes at
// the command's execve, as on the other ways in.
func ownStatus(sock int) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		failInit(CodeRuntime, fmt.Errorf("join container: status pipe: %w", err))
	}
	if err := unix.Sendmsg(sock, []byte{'s'}, unix.UnixRights(p[0]), nil, 0); err != nil {
		failInit(CodeRuntime, fmt.Errorf("join container: send status pipe: %w", err))
	}
	unix.Close(p[0])
	unix.Close(sock)
	if err := unix.Dup3(p[1], fdStatus, unix.O_CLOEXEC); err != nil {
		failInit(CodeRuntime, fmt.Errorf("join container: status pipe: %w", err))
	}
	unix.Close(p[1])
}

// enterByPidfd enters the mount, UTS, IPC, network and cgroup namespaces
// of the process pidfd holds, on this (locked) thread, which goes on to
// execute the command: execve keeps the calling thread's namespaces, root
// and working directory.
func enterByPidfd(pidfd int) {
	// setns of a mount namespace needs a filesystem context of our own.
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		failInit(CodeRuntime, fmt.Errorf("join container: unshare fs: %w", err))
	}
	ns := unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWNET | unix.CLONE_NEWCGROUP
	if err := unix.Setns(pidfd, ns); err != nil {
		failInit(CodeRuntime, fmt.Errorf("join container: enter its namespaces: %w", err))
	}
	unix.Close(pidfd)
}

// enterRoot makes the directory fd holds, the container's root (its pid
// 1's, opened on the host), this process's root and working directory:
// nsenter left it its own descriptor directory as root
// (--root=/proc/self/fd, see joinFromInit).
func enterRoot(fd int) {
	if err := unix.Fchdir(fd); err != nil {
		failInit(CodeRuntime, fmt.Errorf("join container: enter its root: %w", err))
	}
	if err := unix.Chroot("."); err != nil {
		failInit(CodeRuntime, fmt.Errorf("join container: enter its root: %w", err))
	}
	if err := unix.Chdir("/"); err != nil {
		failInit(CodeRuntime, fmt.Errorf("join container: enter its root: %w", err))
	}
	unix.Close(fd)
}

// enterPidNamespace makes the PID namespace fd holds (the container's,
// opened on the host) the one of this process's children: the command
// this process forks once it has confined itself (joinfork.go) is the
// first of this exec that the container sees.
func enterPidNamespace(fd int) {
	if err := unix.Setns(fd, unix.CLONE_NEWPID); err != nil {
		failInit(CodeRuntime, fmt.Errorf("join container: enter its PID namespace: %w", err))
	}
	unix.Close(fd)
}

// namespaceKinds are the namespaces nsenter enters, in its flags' order
// (joinFromInit); the PID one the init enters itself.
var namespaceKinds = []string{"mnt", "uts", "ipc", "net", "cgroup"}

// fdJoinTTY is where a joined process finds the socket for its pty master.
const fdJoinTTY = 6
