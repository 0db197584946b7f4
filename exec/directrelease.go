//go:build !strata_init

package exec

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// The end of a direct start (direct.go): once the command is forked and
// stopped at its execve, /proc is mounted for its PID namespace, the
// forking thread goes back to its own cgroups, and the command runs; and
// what a fork that did not reach the command reports.

// errTraceRefused is a direct start whose command could not be forked
// traced: PTRACE_TRACEME was refused (a security module, Yama's
// ptrace_scope 3, a seccomp filter on strata itself). Run then starts the
// container from the init.
var errTraceRefused = errors.New("the command cannot be traced by strata")

// forkFailure turns the error of a fork that did not reach the command into
// the code Run reports: 127 for a command that is not there, 126 for one
// that cannot be executed, 125 when the fork's own steps failed
// (credentials, tracing).
func forkFailure(name string, err error) error {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return runtimeErr("%w", err)
	}
	switch errno {
	case unix.EPERM:
		// Root's credential changes do not fail so: the tracing did.
		return runtimeErr("%w: %w", errTraceRefused, err)
	case unix.EINVAL, unix.ESRCH:
		return runtimeErr("%w", err)
	}
	code, err := execFailure(name, errno)
	return &ExitError{Code: code, Err: err}
}

// releaseCommand finishes what needs the command's PID namespace (in the
// mount namespace mntns, under root), takes this thread out of the
// container's cgroups (back: its own tasks files), sets the pids limit
// back (restorePids: see raisePidsMax) and lets the command run from its
// stop at execve.
func (c *container) releaseCommand(mntns, root int, back []int, restorePids func() error, privileged bool) error {
	pid := c.cmd.Process.Pid
	var ws unix.WaitStatus
	if _, err := unix.Wait4(pid, &ws, 0, nil); err != nil {
		return runtimeErr("wait for the command's start: %w", err)
	}
	if !ws.Stopped() || ws.StopSignal() != unix.SIGTRAP {
		return runtimeErr("the command did not stop at its start (wait status %#x)", uint32(ws))
	}
	done := make(chan error, 1)
	goLocked(func() { done <- mountProcFor(mntns, root, pid, privileged) })
	if err := <-done; err != nil {
		return runtimeErr("%w", err)
	}
	for _, fd := range back {
		if _, err := unix.Write(fd, []byte("0")); err != nil {
			return runtimeErr("leave the container's cgroup: %w", err)
		}
	}
	if err := restorePids(); err != nil {
		return runtimeErr("%w", err)
	}
	if err := unix.PtraceDetach(pid); err != nil {
		return runtimeErr("detach from the command: %w", err)
	}
	return nil
}

// mountProcFor enters the mount namespace mntns and the root directory
// root (the container's) on the calling thread, mounts /proc there for
// pid's PID namespace and, unless privileged, masks its paths.
func mountProcFor(mntns, root, pid int, privileged bool) error {
	pidns, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/ns/pid", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open the command's pid namespace: %w", err)
	}
	defer unix.Close(pidns)
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return fmt.Errorf("unshare fs: %w", err)
	}
	if err := unix.Setns(mntns, unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("enter the container's mount namespace: %w", err)
	}
	// setns made the namespace's root ours, which is the container's
	// only if strata's own root was the namespace's: enter it by its fd.
	if err := unix.Fchdir(root); err != nil {
		return fmt.Errorf("enter the container's root: %w", err)
	}
	if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("enter the container's root: %w", err)
	}
	if err := mountProc(root, pidns); err != nil {
		return err
	}
	if privileged {
		return nil
	}
	return maskPaths()
}

// mountProc mounts a proc for the PID namespace pidns on /proc in the
// root.
func mountProc(rootfd, pidns int) error {
	target, err := openInRoot(rootfd, "proc", unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return fmt.Errorf("mount /proc: %w", err)
	}
	defer unix.Close(target)
	fs, err := unix.Fsopen("proc", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return fmt.Errorf("mount /proc: fsopen: %w", err)
	}
	defer unix.Close(fs)
	if err := unix.FsconfigSetString(fs, "source", "proc"); err != nil {
		return fmt.Errorf("mount /proc: %w", err)
	}
	if err := unix.FsconfigSetFd(fs, "pidns", pidns); err != nil {
		return fmt.Errorf("mount /proc: pidns: %w", err)
	}
	if err := unix.FsconfigCreate(fs); err != nil {
		return fmt.Errorf("mount /proc: %w", err)
	}
	mnt, err := unix.Fsmount(fs, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC)
	if err != nil {
		return fmt.Errorf("mount /proc: fsmount: %w", err)
	}
	defer unix.Close(mnt)
	if err := unix.MoveMount(mnt, "", target, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("mount /proc: %w", err)
	}
	return nil
}

// ownTasks opens the v1 tasks files of the calling thread's own cgroups in
// the hierarchies of join (tasks files of the container's cgroups), for
// the thread to go back to.
func ownTasks(join []string) (fds []int, err error) {
	if len(join) == 0 {
		return nil, nil
	}
	cgs, err := readProcCgroups("/proc/thread-self/cgroup")
	if err != nil {
		return nil, err
	}
	own := map[string]string{} // controller → this thread's cgroup in its hierarchy
	for _, c := range cgs {
		for _, ctrl := range strings.Split(c.controllers, ",") {
			own[ctrl] = c.path
		}
	}
	defer func() {
		if err != nil {
			closeFds(fds)
		}
	}()
	for _, t := range join {
		rel, err := filepath.Rel(cgroupRoot, t)
		if err != nil {
			return fds, err
		}
		hier, _, _ := strings.Cut(rel, "/")
		p, ok := own[hier]
		if !ok {
			return fds, fmt.Errorf("no %s cgroup in /proc/thread-self/cgroup", hier)
		}
		fd, err := unix.Open(filepath.Join(cgroupRoot, hier, p, "tasks"), unix.O_WRONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fds, fmt.Errorf("open own %s cgroup: %w", hier, err)
		}
		fds = append(fds, fd)
	}
	return fds, nil
}

func closeFds(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}
