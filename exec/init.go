package exec

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path"
	"runtime"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// File descriptors the parent hands to the container init.
const (
	fdConfig = 3 // read: the initConfig (initwire.go)
	fdStatus = 4 // write: an initError if setup fails; closed by execve
	fdTTY    = 5 // unix socket: the pty master goes back over it (Terminal)
)

// initConfig is what Run tells the container init.
type initConfig struct {
	Root         string
	Args         []string
	Env          []string
	Cwd          string
	User         string
	GroupAdd     []string
	Hostname     string
	Terminal     bool
	Rows, Cols   uint16
	Mounts       []Mount
	ReadOnlyRoot bool
	NewNet       bool
	HostDNS      bool // the host's resolv.conf (host and private networks)
	Privileged   bool
	Caps         []string
	Seccomp      []byte // compiled filter (sock_filter records); nil: none
	EtcDir       string
	CgroupV1     []string // controllers to mount read-only at /sys/fs/cgroup/<name>
	CgroupV2     bool     // mount the unified hierarchy read-only at /sys/fs/cgroup
	JoinTasks    []string // v1 tasks files this thread writes "0" to, to join its cgroups
	Init         bool
	UserNS       bool
	Joined       bool // a process joining a running container (exec), not its init
	// Rlimits the init sets on itself at the end of its setup, just
	// before it changes credentials and executes the command (limitSelf).
	Rlimits []Rlimit
	Devices []Device // made in /dev after the usual nodes
	Sysctls []string // KEY=VALUE, written once /proc is the container's
}

// initError is the init's report of a failure before the user's process ran.
type initError struct {
	Code int
	Msg  string
}

// failInit reports err to the parent and exits: the init never returns.
func failInit(code int, err error) {
	unix.Write(fdStatus, initError{Code: code, Msg: err.Error()}.encode())
	os.Exit(code)
}

// containerInit runs in the new namespaces as the future pid 1. Every step
// that is per thread (capabilities, seccomp, the cgroup namespace) happens on
// this locked thread, which finally calls execve.
func containerInit() {
	runtime.LockOSThread()
	// Named for ps inside the container (else it shows the memfd's fd number).
	unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&[]byte("strata-init\x00")[0])), 0, 0, 0)
	// Non-dumpable: the container's processes can neither ptrace this
	// process nor open its /proc/<pid>/exe (the strata binary).
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		failInit(CodeRuntime, fmt.Errorf("start container: set non-dumpable: %w", err))
	}
	cfg, err := readConfig(fdConfig)
	if err == errWireSignature {
		failInit(CodeRuntime, fmt.Errorf("start container: %w", err))
	}
	if err != nil {
		// The parent died or failed before sending the config.
		os.Exit(CodeRuntime)
	}
	unix.Close(fdConfig)
	if err := setupContainer(cfg); err != nil {
		failInit(CodeRuntime, fmt.Errorf("start container: %w", err))
	}
	code, err := startProcess(cfg, true, nil)
	failInit(code, err)
}

// setupContainer builds the container's filesystem view and identity.
func setupContainer(cfg *initConfig) error {
	// In our cgroups now (born there on v2; the parent moved us with Init;
	// else this thread moves itself, and is the one that will execve): the
	// cgroup namespace created now is rooted there. On v2 the thread moves
	// after, into the child that holds pids.max (initPids): the container
	// sees its cgroup, memory.max and cpu.max with it, as the root.
	if !cfg.CgroupV2 {
		if err := joinTasks(cfg.JoinTasks); err != nil {
			return err
		}
	}
	if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
		return fmt.Errorf("unshare cgroup namespace: %w", err)
	}
	if cfg.CgroupV2 {
		if err := joinTasks(cfg.JoinTasks); err != nil {
			return err
		}
	}
	return buildRoot(cfg, true)
}

// buildRoot makes the mounts of the container, pivots into its root and
// sets its host name and loopback, in the mount, UTS and network namespaces
// of the calling thread. withProc mounts /proc and masks its paths too;
// without it only the mount point is made (a direct start mounts /proc once
// the new PID namespace has its pid 1: see direct.go).
func buildRoot(cfg *initConfig, withProc bool) error {
	// Slave: host mount events still reach us, ours never reach the host.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_SLAVE, ""); err != nil {
		return fmt.Errorf("make / rslave: %w", err)
	}
	if err := unix.Mount(cfg.Root, cfg.Root, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind root %s: %w", cfg.Root, err)
	}
	rootfd, err := unix.Open(cfg.Root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open root: %w", err)
	}
	defer unix.Close(rootfd)
	if err := allowSuidDev(rootfd, cfg.UserNS); err != nil {
		return err
	}
	if withProc {
		err = mountAt(rootfd, "proc", "proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
	} else {
		var fd int
		if fd, err = mkdirInRoot(rootfd, "proc"); err == nil {
			unix.Close(fd)
		}
	}
	if err != nil {
		return err
	}
	if err := setupDev(rootfd); err != nil {
		return err
	}
	if err := makeDevices(rootfd, cfg.Devices); err != nil {
		return err
	}
	if err := setupSys(rootfd, cfg.Privileged); err != nil {
		return err
	}
	if err := mountCgroups(rootfd, cfg); err != nil {
		return err
	}
	if cfg.EtcDir != "" {
		if err := bindEtcFiles(rootfd, cfg.EtcDir); err != nil {
			return err
		}
	}
	for _, m := range cfg.Mounts {
		if err := userMount(rootfd, m); err != nil {
			return err
		}
	}
	if err := pivotRoot(rootfd); err != nil {
		return err
	}
	if withProc {
		if err := setSysctls(cfg.Sysctls); err != nil {
			return err
		}
	}
	if withProc && !cfg.Privileged {
		if err := maskPaths(); err != nil {
			return err
		}
	}
	if cfg.ReadOnlyRoot {
		// As docker's: -w is made even in a read-only root, so before
		// it is one. A failure is enterCwd's to report.
		if cfg.Cwd != "" {
			os.MkdirAll(cfg.Cwd, 0o755)
		}
		if err := readonlyRoot(); err != nil {
			return err
		}
	}
	if err := unix.Sethostname([]byte(cfg.Hostname)); err != nil {
		return fmt.Errorf("sethostname: %w", err)
	}
	if cfg.NewNet {
		if err := loopbackUp(); err != nil {
			return err
		}
	}
	return nil
}

// command is the user's process as the container's files define it.
type command struct {
	cred  credential
	env   []string
	argv0 string // Args[0] resolved in the container's PATH
}

// resolveCommand resolves cfg's user and command inside the new root. On
// failure it returns the exit code to report (126 or 127 for the command,
// else 125).
func resolveCommand(cfg *initConfig) (command, int, error) {
	cred, err := resolveUser(cfg.User, cfg.GroupAdd, "/etc/passwd", "/etc/group")
	if err != nil {
		return command{}, CodeRuntime, fmt.Errorf("start container: %w", err)
	}
	if cfg.UserNS && (cred.UID != 0 || cred.GID != 0) {
		return command{}, CodeRuntime, fmt.Errorf("start container: rootless: user %q (uid %d, gid %d) is not mapped: only root exists in a rootless container: %w", cfg.User, cred.UID, cred.GID, ErrRootless)
	}
	env := withDefaults(cfg.Env, cred.Home, cfg.Terminal)
	argv0, err := lookPath(cfg.Args[0], envValue(env, "PATH"))
	if err != nil {
		var ee *ExitError
		if errors.As(err, &ee) {
			return command{}, ee.Code, ee.Err
		}
		return command{}, CodeRuntime, err
	}
	return command{cred: cred, env: env, argv0: argv0}, 0, nil
}

// enterCwd changes to cfg's working directory. After pivot_root: it is
// resolved in the new root only, and no directory fd of the host is left
// to escape through.
func enterCwd(cfg *initConfig) error {
	cwd := cfg.Cwd
	if cwd == "" {
		cwd = "/"
	}
	err := unix.Chdir(cwd)
	if errors.Is(err, unix.ENOENT) && !cfg.Joined {
		// As docker's run -w: a missing working directory is made, in
		// the container's root (this is after pivot_root), as root and
		// 0755. An exec into a running container does not make one.
		if mkErr := os.MkdirAll(cwd, 0o755); mkErr == nil {
			err = unix.Chdir(cwd)
		}
	}
	if err != nil {
		return fmt.Errorf("start container: chdir %s: %w", cwd, err)
	}
	return nil
}

// startProcess confines this thread and execs the user's command. It
// returns only on failure, with the exit code to report. deathSignal:
// the command dies (SIGKILL) when this process's parent does.
// With fork (nsenter's way of a join, joinfork.go), this process forks
// the command once confined, instead of becoming it; fork is its
// exec-error pipe.
func startProcess(cfg *initConfig, deathSignal bool, fork *[2]int) (int, error) {
	// The working directory first: a relative command (./run.sh) is
	// found from there, as runc and docker find it.
	if err := enterCwd(cfg); err != nil {
		return CodeRuntime, err
	}
	cmd, code, err := resolveCommand(cfg)
	if err != nil {
		return code, err
	}
	cred, env, argv0 := cmd.cred, cmd.env, cmd.argv0
	if cfg.Terminal {
		// Where this process lives on beside the command, the command's
		// session takes the terminal.
		if err := setupTerminal(cfg, cred, !cfg.Init && fork == nil); err != nil {
			return CodeRuntime, fmt.Errorf("start container: %w", err)
		}
	}
	var prog []unix.SockFilter
	if len(cfg.Seccomp) > 0 {
		prog = seccompFromBytes(cfg.Seccomp)
	}
	// Where this process lives on beside the command, all its threads.
	allThreads := cfg.Init || fork != nil
	if _, _, e := capSyscall(allThreads)(unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0); e != 0 {
		err := error(e)
		return CodeRuntime, fmt.Errorf("start container: no_new_privs: %w", err)
	}
	keep := capMap(cfg.Caps)
	sys := capSyscall(allThreads)
	if err := dropBounding(keep, sys); err != nil {
		return CodeRuntime, fmt.Errorf("start container: %w", err)
	}
	// Last of the setup, while this process still has strata's privilege
	// to raise a hard limit, as runc applies them: a low --ulimit
	// (nofile=5, data=1m) no longer fails the setup's mounts or crashes
	// its Go runtime. A pid 1 that lives on leaves them to the trampoline
	// it starts the command through (limited.go), a joined init that
	// forks the command to that child (joinfork.go): under nproc=1 its
	// fork as the command's user failed.
	setLimits := limitSelf
	if allThreads {
		setLimits = raiseHard
	}
	if err := setLimits(cfg.Rlimits); err != nil {
		return CodeRuntime, fmt.Errorf("start container: %w", err)
	}
	// Direct exec: only this thread survives execve, so it alone changes
	// credentials; a stop-the-world change of every thread costs more than
	// the rest of the setup.
	if err := setCredential(cred, !allThreads); err != nil {
		return CodeRuntime, fmt.Errorf("start container: %w", err)
	}
	if cred.UID == 0 {
		if err := setCaps(keep, sys); err != nil {
			return CodeRuntime, fmt.Errorf("start container: %w", err)
		}
	}
	// Changing credentials cleared the parent-death signal and may have
	// reset dumpability: set both again (the signal if deathSignal).
	if deathSignal {
		unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0)
	}
	unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	unix.Umask(0o022)
	if cfg.Init {
		return runPid1(cfg, argv0, env, prog)
	}
	// No descriptor of the runtime or the host survives execve.
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return CodeRuntime, fmt.Errorf("start container: close_range: %w", err)
	}
	if prog != nil {
		if err := loadSeccomp(prog); err != nil {
			return CodeRuntime, fmt.Errorf("start container: %w", err)
		}
	}
	if fork != nil {
		return forkJoined(cfg, argv0, env, *fork)
	}
	unignoreInterrupts()
	err = unix.Exec(argv0, cfg.Args, env)
	return execFailure(cfg.Args[0], err)
}

// unignoreInterrupts gives the command SIGINT and SIGHUP at their
// defaults, as a direct start (which forks after strata's signal.Notify)
// and docker's daemon give it, when strata itself was started with them
// ignored (a background job of a script, nohup): Go leaves exactly those
// two ignored if they were at start, and execve keeps an ignored signal
// ignored, so ^C in "strata run -it" stopped nothing. A Go handler, which
// Notify installs, becomes the default at execve. Only signals ignored
// now are touched: one sent in the moment before execve still acts.
func unignoreInterrupts() {
	for _, s := range []os.Signal{unix.SIGINT, unix.SIGHUP} {
		if signal.Ignored(s) {
			signal.Notify(make(chan os.Signal, 1), s)
		}
	}
}

func execFailure(name string, err error) (int, error) {
	if errors.Is(err, unix.ENOENT) {
		return CodeNotFound, fmt.Errorf("exec %s: %w", name, err)
	}
	return CodeNotExecutable, fmt.Errorf("exec %s: %w", name, err)
}

// setCredential switches to the user (groups first, uid last): the calling
// thread only if thisThread, else every thread of the process.
func setCredential(c credential, thisThread bool) error {
	groups := make([]int, len(c.Groups))
	for i, g := range c.Groups {
		groups[i] = int(g)
	}
	setgroups, setresgid, setresuid := syscall.Setgroups, syscall.Setresgid, syscall.Setresuid
	if thisThread {
		setgroups = func(g []int) error {
			var p unsafe.Pointer
			gs := make([]uint32, len(g))
			for i := range g {
				gs[i] = uint32(g[i])
			}
			if len(gs) > 0 {
				p = unsafe.Pointer(&gs[0])
			}
			return rawErrno(unix.RawSyscall(unix.SYS_SETGROUPS, uintptr(len(gs)), uintptr(p), 0))
		}
		setresgid = func(r, e, s int) error {
			return rawErrno(unix.RawSyscall(unix.SYS_SETRESGID, uintptr(r), uintptr(e), uintptr(s)))
		}
		setresuid = func(r, e, s int) error {
			return rawErrno(unix.RawSyscall(unix.SYS_SETRESUID, uintptr(r), uintptr(e), uintptr(s)))
		}
	}
	if err := setgroups(groups); err != nil && !errors.Is(err, unix.EPERM) {
		return fmt.Errorf("setgroups: %w", err)
	}
	if err := setresgid(int(c.GID), int(c.GID), int(c.GID)); err != nil {
		return fmt.Errorf("setgid %d: %w", c.GID, err)
	}
	if err := setresuid(int(c.UID), int(c.UID), int(c.UID)); err != nil {
		return fmt.Errorf("setuid %d: %w", c.UID, err)
	}
	return nil
}

func rawErrno(_, _ uintptr, e unix.Errno) error {
	if e != 0 {
		return e
	}
	return nil
}

// lookPath resolves name like execvp does, inside the new root. Its errors
// are *ExitError with code 126 or 127.
func lookPath(name, pathEnv string) (string, error) {
	if name == "" {
		return "", &ExitError{Code: CodeNotFound, Err: errors.New(`exec "": executable file not found in $PATH`)}
	}
	if strings.Contains(name, "/") {
		return name, checkExecutable(name)
	}
	if pathEnv == "" {
		pathEnv = DefaultPath
	}
	var firstErr error
	for _, dir := range strings.Split(pathEnv, ":") {
		if dir == "" {
			dir = "."
		}
		p := path.Join(dir, name)
		err := checkExecutable(p)
		if err == nil {
			return p, nil
		}
		if firstErr == nil && !errors.Is(err, ErrNotFound) {
			firstErr = err
		}
	}
	if firstErr != nil {
		return "", firstErr
	}
	return "", &ExitError{Code: CodeNotFound, Err: fmt.Errorf("exec %s: executable file not found in $PATH", name)}
}

func checkExecutable(p string) error {
	st, err := os.Stat(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return &ExitError{Code: CodeNotFound, Err: fmt.Errorf("exec %s: no such file or directory", p)}
		}
		return &ExitError{Code: CodeNotExecutable, Err: fmt.Errorf("exec %s: %w", p, err)}
	}
	if st.IsDir() || st.Mode()&0o111 == 0 {
		return &ExitError{Code: CodeNotExecutable, Err: fmt.Errorf("exec %s: permission denied", p)}
	}
	return nil
}

func envValue(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}

// withDefaults adds PATH and HOME when the caller did not set them, and
// with a terminal TERM=xterm as docker's run -t and exec -t do: without
// it, programs that draw on the terminal (vi, top, less) fall back to a
// dumb one. A TERM the caller set, even empty, stays.
func withDefaults(env []string, home string, terminal bool) []string {
	out := append([]string(nil), env...)
	if envValue(env, "PATH") == "" {
		out = append(out, "PATH="+DefaultPath)
	}
	if envValue(env, "HOME") == "" {
		out = append(out, "HOME="+home)
	}
	if terminal && !envHas(env, "TERM") {
		out = append(out, "TERM=xterm")
	}
	return out
}

// envHas reports whether env sets key, even to "".
func envHas(env []string, key string) bool {
	for _, kv := range env {
		if k, _, ok := strings.Cut(kv, "="); ok && k == key {
			return true
		}
	}
	return false
}
