//go:build !strata_init

package exec

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	osexec "os/exec"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// How a joined init (join.go) gets into the container: forked by a
// thread that entered its PID namespace and cgroups (startInto), or
// executed by nsenter, which needs a static init (requireStatic); and
// how a signal reaches the joined command (signalJoined).

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
// which the init becomes, or through nsenter (viaNsenter), that process's
// one child: the command the init forks (joinfork.go). nsenter, which
// forked as the init does now, passed no signal on and died of most, and
// the command, whose parent-death signal is SIGKILL, died with it instead
// of getting the signal. Before the command is forked, the process
// started gets the signal.
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

// openRootOf opens pid's root directory, as a path (O_PATH), on the host:
// the joined init enters it on nsenter's way (enterRoot).
func openRootOf(pid int) (*os.File, error) {
	p := "/proc/" + strconv.Itoa(pid) + "/root"
	fd, err := unix.Open(p, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open the container's root: %w", err)
	}
	return os.NewFile(uintptr(fd), p), nil
}

// openPidNamespaceOf opens pid's PID namespace on the host: the joined
// init forks the command into it on nsenter's way (enterPidNamespace).
func openPidNamespaceOf(pid int) (*os.File, error) {
	p := "/proc/" + strconv.Itoa(pid) + "/ns/pid"
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("open the container's PID namespace: %w", err)
	}
	return f, nil
}

// holdProcess opens a pidfd of pid, the container's pid 1: while it is
// alive (stillHeld), pid names that process and no other that took its
// pid after it ended. parent, if not 0, is the parent pid 1 must have.
func holdProcess(pid, parent int) (int, error) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return -1, fmt.Errorf("container pid %d: %w", pid, err)
	}
	if parent != 0 {
		if p := LiveParentOf(pid); p != parent {
			unix.Close(fd)
			return -1, fmt.Errorf("container pid %d ended: its parent is %d, not %d", pid, p, parent)
		}
	}
	return fd, nil
}

// stillHeld fails once the process held ended: what was opened of its
// pid since may be another process's.
func stillHeld(held, pid int) error {
	if err := unix.PidfdSendSignal(held, 0, nil, 0); err != nil {
		return fmt.Errorf("container pid %d ended: %w", pid, err)
	}
	return nil
}

// openNamespacesOf opens pid's namespaces of namespaceKinds on the host.
func openNamespacesOf(pid int) ([]*os.File, error) {
	var fs []*os.File
	for _, kind := range namespaceKinds {
		f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/ns/" + kind)
		if err != nil {
			closeAll(fs)
			return nil, fmt.Errorf("open the container's %s namespace: %w", kind, err)
		}
		fs = append(fs, f)
	}
	return fs, nil
}

func closeAll(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
}
