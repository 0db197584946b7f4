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
// Where the container's v2 cgroup is not this process's (cgroup v2
// hosts, where a thread cannot join a v2 cgroup alone), the thread
// enters only the container's PID namespace and forks the init binary
// into the v2 cgroup (clone3's CLONE_INTO_CGROUP): born in the container's
// cgroup and PID namespace, the init enters the other namespaces through
// the same pidfd and executes the command in place (startInto). It
// cannot be the thread that forks the command there, as it does on v1:
// the command would be born in this process's cgroup, outside the
// container's device rules until moved, and the seccomp filter the
// thread takes on before the fork refuses clone3.
//
// Join takes nsenter's path (join.go) where the container has a user
// namespace of its own (a thread of a threaded process cannot enter one),
// where the kernel cannot setns through a pidfd (before Linux 5.8), and
// where a process in the container may hold CAP_SYS_PTRACE. Go forks
// with CLONE_VM: until its execve, the child shares all of strata's
// memory, and it is in the container's PID namespace already. A process
// of the container that holds CAP_SYS_PTRACE may open that child's
// /proc/PID/mem, and so write into strata on the host; and the init
// forked into the container runs in the host's mount namespace with
// every capability until it has entered the others. On nsenter's way
// the init forks the command without CLONE_VM, once confined, and is in
// the container's PID namespace never itself (joinfork.go). Without
// CAP_SYS_PTRACE the container cannot open the child: it holds more
// capabilities than the container (even after a -u change of user, for
// strata is made non-dumpable first).

// joinTarget is what a join through a pidfd enters: pid 1's pidfd, the
// v1 tasks files of its cgroups, and its v2 cgroup where that is not this
// process's.
type joinTarget struct {
	pidfd  int
	tasks  []string
	cgroup string // the v2 cgroup directory the joined process is forked into, or ""
}

// setnsJoins is false in tests that take nsenter's path.
var setnsJoins = true

// joinTargetOf returns the target for a join through a pidfd into the
// container whose pid 1 is pid, or ok false where nsenter's path must be
// taken. ptrace says whether the joined process will hold CAP_SYS_PTRACE.
func joinTargetOf(pid int, ptrace bool) (t joinTarget, ok bool, err error) {
	if !setnsJoins || !sameNamespace(pid, "user") || ptrace || mayPtrace(pid) {
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
	v2 := cgroupV2()
	for _, c := range theirs {
		switch {
		case c.id == "0" && c.controllers == "":
			if mnt := cgroupV2Mount(); mnt != "" && !sameV2Cgroup(ours, c.path) {
				t.cgroup = filepath.Join(mnt, c.path)
			}
		case strings.HasPrefix(c.controllers, "name="), c.path == "/", v2:
			// On a v2 host a v1 line is a named hierarchy, or one
			// mounted elsewhere: not the container's.
		case sameV1Cgroup(ours, c):
			// Inherited from strata (a controller it made no cgroup
			// in): the thread is there already, and a write would
			// cost an attach for nothing.
		default:
			t.tasks = append(t.tasks, filepath.Join(cgroupRoot, strings.Split(c.controllers, ",")[0], c.path, "tasks"))
		}
	}
	if len(t.tasks) == 0 && t.cgroup == "" {
		return t, false, fmt.Errorf("container pid %d: no cgroup of its own", pid)
	}
	if t.pidfd, err = unix.PidfdOpen(pid, 0); err != nil {
		return t, false, nil // nsenter's path says what is wrong
	}
	return t, true, nil
}

// mayPtrace reports whether a process of the container whose pid 1 is
// pid may hold CAP_SYS_PTRACE: it is in pid 1's bounding set, which its
// descendants cannot widen (true when that cannot be read).
func mayPtrace(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return true
	}
	_, rest, ok := strings.Cut(string(b), "\nCapBnd:\t")
	if !ok {
		return true
	}
	hex, _, _ := strings.Cut(rest, "\n")
	bnd, err := strconv.ParseUint(hex, 16, 64)
	return err != nil || bnd&(1<<unix.CAP_SYS_PTRACE) != 0
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

// sameV1Cgroup reports whether this process is in c, a v1 line of the
// container's /proc/PID/cgroup.
func sameV1Cgroup(ours []procCgroup, c procCgroup) bool {
	for _, o := range ours {
		if o.id == c.id && o.controllers == c.controllers {
			return o.path == c.path
		}
	}
	return false
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
	if spec.Started != nil {
		spec.Started(c.cmd.Process.Pid)
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
