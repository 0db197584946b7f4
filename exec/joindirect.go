//go:build !strata_init

package exec

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// A direct join enters a running container from a locked thread of this
// process, as a direct start builds one (direct.go), instead of through
// the init and nsenter (join.go: two more programs, one of them a second
// Go start). The thread joins the container's v1 cgroups, enters its
// namespaces in one setns(2) through a pidfd of its pid 1 (so a pid 1
// that exits and whose pid is reused cannot be entered instead), confines
// itself as Run confines a command, and forks the command, which is born
// in the container's PID namespace, where /proc is already mounted. The
// thread then ends with its goroutine, and so leaves the container's
// cgroups and namespaces: the command's parent is another thread of this
// process from then on, which waits for it as before.
//
// Join takes the init's path where this cannot work: on cgroup v2 (a
// thread cannot join a v2 cgroup alone), where the container's v2 cgroup
// on a hybrid host is not this process's, and where the container has a
// user namespace of its own (a thread of a threaded process cannot enter
// one).

// joinTarget is what a direct join enters: pid 1's pidfd and the v1
// tasks files of its cgroups.
type joinTarget struct {
	pidfd int
	tasks []string
}

// directJoinTarget returns the target for a direct join into the
// container whose pid 1 is pid, or ok false where the init's path must be
// taken.
func directJoinTarget(pid int) (t joinTarget, ok bool, err error) {
	if !directStarts || cgroupV2() || !sameNamespace(pid, "user") {
		return t, false, nil
	}
	theirs, err := readProcCgroups("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return t, false, fmt.Errorf("container pid %d: %w", pid, err)
	}
	ours, err := readProcCgroups("/proc/self/cgroup")
	if err != nil {
		return t, false, err
	}
	for _, c := range theirs {
		switch {
		case c.id == "0" && c.controllers == "":
			if !sameV2Cgroup(ours, c.path) {
				return t, false, nil
			}
		case strings.HasPrefix(c.controllers, "name="), c.path == "/":
		default:
			t.tasks = append(t.tasks, filepath.Join(cgroupRoot, strings.Split(c.controllers, ",")[0], c.path, "tasks"))
		}
	}
	if len(t.tasks) == 0 {
		return t, false, fmt.Errorf("container pid %d: no cgroup of its own", pid)
	}
	if t.pidfd, err = unix.PidfdOpen(pid, 0); err != nil {
		return t, false, nil // the init's path says what is wrong
	}
	return t, true, nil
}

// sameNamespace reports whether pid is in this process's namespace of
// kind ("user", "net"...).
func sameNamespace(pid int, kind string) bool {
	var a, b unix.Stat_t
	if unix.Stat("/proc/"+strconv.Itoa(pid)+"/ns/"+kind, &a) != nil || unix.Stat("/proc/self/ns/"+kind, &b) != nil {
		return false
	}
	return a.Dev == b.Dev && a.Ino == b.Ino
}

func sameV2Cgroup(ours []procCgroup, path string) bool {
	for _, c := range ours {
		if c.id == "0" && c.controllers == "" {
			return c.path == path
		}
	}
	return false
}

// errSetnsPidfd: the kernel cannot setns through a pidfd; Join takes the
// init's path.
var errSetnsPidfd = errors.New("setns through a pidfd is not supported")

// setnsPidfd is setns(2); a test stands in a kernel before Linux 5.8.
var setnsPidfd = unix.Setns

// joinDirect runs spec (its init config cfg) in the container t names,
// from a locked thread, and returns the command's exit code.
func joinDirect(ctx context.Context, t joinTarget, spec *Spec, cfg *initConfig) (int, error) {
	defer unix.Close(t.pidfd)
	own := *spec // hostDevNull fills in its streams; Join may fall back with spec
	spec = &own
	c := &container{spec: spec, ttyFd: -1, joined: true}
	defer c.close()
	if spec.Terminal {
		c.pickTerminal()
		c.sizeTerminal(cfg)
	}
	// See startDirect: os's pidfd probe must not be this thread's first fork.
	if p, err := os.FindProcess(os.Getpid()); err == nil {
		p.Release()
	}
	if !spec.Terminal {
		closeNull, err := hostDevNull(spec)
		if err != nil {
			return CodeRuntime, runtimeErr("%w", err)
		}
		defer closeNull()
	}
	// Signals are caught before the command exists (see Run).
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, forwarded...)
	defer signal.Stop(sigs)
	started := make(chan error)
	goLocked(func() { started <- c.joinOnThread(t, cfg) })
	if err := <-started; err != nil {
		var ee *ExitError
		if errors.As(err, &ee) {
			return ee.Code, err
		}
		return CodeRuntime, err
	}
	if c.master != nil {
		c.startTerminalIO()
	}
	return c.wait(ctx, sigs)
}

// hostDevNull gives the stdio streams spec leaves nil the host's
// /dev/null. os/exec would open it at the fork, on the thread that has
// entered the container: in its root, where the container may have put
// anything at /dev/null (a FIFO would hold strata's open forever).
func hostDevNull(spec *Spec) (func(), error) {
	if spec.Stdin != nil && spec.Stdout != nil && spec.Stderr != nil {
		return func() {}, nil
	}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	if spec.Stdin == nil {
		spec.Stdin = null
	}
	if spec.Stdout == nil {
		spec.Stdout = null
	}
	if spec.Stderr == nil {
		spec.Stderr = null
	}
	return func() { null.Close() }, nil
}

// joinOnThread enters the container t names on the calling (locked)
// thread and starts the command there. On failure no command runs.
func (c *container) joinOnThread(t joinTarget, cfg *initConfig) (err error) {
	if err := joinTasks(t.tasks); err != nil {
		return runtimeErr("join container: %w", err)
	}
	// setns of a mount namespace needs a filesystem context of our own.
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return runtimeErr("join container: unshare fs: %w", err)
	}
	ns := unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWNET | unix.CLONE_NEWPID | unix.CLONE_NEWCGROUP
	if err := setnsPidfd(t.pidfd, ns); errors.Is(err, unix.EINVAL) {
		return errSetnsPidfd // before Linux 5.8
	} else if err != nil {
		return runtimeErr("join container: enter its namespaces: %w", err)
	}
	// The thread's root and working directory are now the container's.
	cmd, slave, err := c.commandInRoot(cfg)
	if err != nil {
		return err
	}
	if slave != nil {
		defer slave.Close()
		defer c.dropMasterOnError(&err)
	}
	if err := confineThread(cfg); err != nil {
		return runtimeErr("%w", err)
	}
	stdinW, err := c.command(cfg, cmd, slave)
	if err != nil {
		return err
	}
	if stdinW != nil {
		go pump(stdinW, c.spec.Stdin)
	}
	return nil
}
