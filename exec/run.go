//go:build !strata_init

package exec

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	osexec "os/exec"
	"os/signal"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// Run starts spec.Args in a new container on spec.Root and waits for it.
// exitCode is the process's exit status, 128+N if signal N killed it. When the
// process could not be started err is an *ExitError whose Code (125, 126 or
// 127) is also returned as exitCode. Cancelling ctx kills the container.
func Run(ctx context.Context, spec Spec) (exitCode int, err error) {
	return runOn(ctx, spec, nil)
}

// runOn is Run, on early's init when that was started for spec (see Early).
func runOn(ctx context.Context, spec Spec, early *Early) (exitCode int, err error) {
	// Leftovers of dead runs are swept while this one starts; Run returns
	// only once that is done (nothing is left behind when it returns).
	swept := sweepStarted()
	defer func() { <-swept }()
	var (
		l      *launched // the init, until configure owns it
		tmpDir string
		cg     *cgroup
		wd     *watchdogHandle
	)
	if early != nil {
		if l = early.take(&spec); l != nil {
			cg = l.cg
		}
	}
	defer func() {
		if cg == nil {
			return
		}
		rerr := cg.remove()
		wd.stop() // only now: the cgroup is gone
		if rerr != nil && err == nil {
			err = runtimeErr("%w", rerr)
		}
	}()
	// Deferred after the cgroup's removal, so run before it: an init that
	// was launched but never configured leaves its cgroup first.
	defer func() {
		if l != nil {
			l.abort()
		}
	}()
	defer func() {
		if tmpDir != "" {
			os.RemoveAll(tmpDir)
		}
	}()
	// The init's file (a read-only mount of the installed init, or a memfd
	// copy, which is the slowest step of a start) is made while the rest
	// is prepared.
	exeReady := make(chan struct{})
	sysAdmin := holdsSysAdmin(&spec)
	direct := l == nil && directUsable(&spec)
	if l == nil && !direct {
		go func() { initExe(sysAdmin); close(exeReady) }()
	} else {
		close(exeReady)
	}
	idGiven := spec.ID != ""
	cfg, err := prepare(&spec)
	if err == nil && l == nil && idGiven {
		// (A launched init holds its ID already: its cgroup, on v2.)
		err = checkIDFree(spec.ID)
	}
	if err != nil {
		<-exeReady
		return CodeRuntime, err
	}
	// Published ports are bound first: one in use fails the run before
	// the user's command starts.
	proxy, bound, err := listenPorts(spec.Ports)
	if err != nil {
		<-exeReady
		return CodeRuntime, runtimeErr("%w", err)
	}
	defer proxy.close()
	if spec.Published != nil && len(bound) > 0 {
		spec.Published(bound)
	}
	var seccompErr error
	seccompReady := make(chan struct{})
	go func() {
		defer close(seccompReady)
		if !spec.Privileged {
			cfg.Seccomp, seccompErr = seccompBytes(cfg.Caps)
		}
	}()

	// The rest of the setup happens while the init starts (it waits for
	// its config, which names the /etc files and the cgroup it joins),
	// except the v2 cgroup: the init is born in it (CLONE_INTO_CGROUP).
	v2 := cgroupV2()
	setup := func(pid int) error {
		var err error
		if tmpDir, err = os.MkdirTemp(runTempParent(), tmpPrefix+strconv.Itoa(os.Getpid())+"-"); err != nil {
			tmpDir = ""
			return runtimeErr("%w", err)
		}
		if err := writeEtcFiles(tmpDir, cfg, &spec); err != nil {
			return runtimeErr("%w", err)
		}
		cfg.EtcDir = tmpDir
		if !v2 {
			if cg, err = runCgroup(&spec); err != nil {
				return err
			}
		}
		if err := joinCgroup(cfg, cg, pid); err != nil {
			return err
		}
		<-seccompReady
		if seccompErr != nil {
			return runtimeErr("%w", seccompErr)
		}
		return nil
	}
	if l == nil && !direct {
		if v2 {
			if cg, err = runCgroup(&spec); err != nil {
				return CodeRuntime, err
			}
		}
		<-exeReady
		exe, err := initExe(sysAdmin)
		if err != nil {
			return CodeRuntime, runtimeErr("%w", err)
		}
		if l, err = launch(&spec, exe, cg); err != nil {
			return CodeRuntime, err
		}
	}
	// Catch signals before the user's command exists: one that arrives
	// while it starts is forwarded once it runs instead of killing strata.
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, forwarded...)
	defer signal.Stop(sigs)
	var (
		c   *container
		exe *os.File // the init binary, which the watchdog runs from
	)
	if direct {
		if err = setup(0); err == nil {
			c, err = startDirect(&spec, cfg)
		}
		if errors.Is(err, errTraceRefused) {
			// Start from the init instead, with the setup done.
			slog.Debug("direct start refused, starting the container from the init", "err", err)
			direct, setup = false, func(int) error { return nil }
			exe, err = initExe(sysAdmin)
			if err == nil {
				l, err = launch(&spec, exe, cg)
			}
		}
	}
	if !direct && err == nil {
		exe = l.exe
		c, err = l.configure(&spec, cfg, setup)
		l = nil // configure killed it if it failed
	}
	if err != nil {
		var ee *ExitError
		if errors.As(err, &ee) {
			return ee.Code, err
		}
		return CodeRuntime, err
	}
	defer c.close()
	if c.net != nil {
		proxy.serve(c.net.addr)
	}
	// The watchdog runs from the init's binary, which a direct start has
	// not needed so far.
	exeOf := func() (*os.File, error) {
		if exe != nil {
			return exe, nil
		}
		return initExe(sysAdmin)
	}
	if cg != nil {
		if spec.LongRunning {
			wd = syncWatchdog(exeOf, cg, tmpDir, spec.CrashUnmount)
		} else {
			wd = goWatchdog(exeOf, cg, tmpDir, spec.CrashUnmount)
		}
	}
	if spec.Started != nil {
		spec.Started(c.cmd.Process.Pid)
	}
	return c.wait(ctx, sigs)
}

// runCgroup makes the cgroup of spec's container. Root always gets one
// (device rules, freezer); rootless only for limits, in a delegated
// subtree where a device program cannot load.
func runCgroup(spec *Spec) (*cgroup, error) {
	if os.Geteuid() != 0 && !spec.Resources.any() {
		return nil, nil
	}
	var rules []devRule // none: every device (privileged), or no program (rootless)
	if os.Geteuid() == 0 && !spec.Privileged {
		rules = deviceRules(spec.Devices)
	}
	cg, err := newCgroup(cgroupName(os.Getpid(), spec.ID), spec.Resources, rules, spec.Init)
	if err != nil {
		return nil, runtimeErr("%w", err) // newCgroup removed what it made
	}
	return cg, nil
}

// checkIDFree fails if a running container has the id.
func checkIDFree(id string) error {
	if dir, _ := freezerDir(id); dir != "" {
		return runtimeErr("container id %q is in use", id)
	}
	return nil
}

// prepare validates the spec and turns it into the init's configuration.
func prepare(spec *Spec) (*initConfig, error) {
	if len(spec.Args) == 0 {
		return nil, runtimeErr("no command given")
	}
	if spec.Root == "" {
		return nil, runtimeErr("no root directory given")
	}
	if spec.ID == "" {
		spec.ID = randomHex(8)
	} else if err := checkID(spec.ID); err != nil {
		return nil, runtimeErr("%w", err)
	}
	root, err := filepath.Abs(spec.Root)
	if err == nil {
		root, err = filepath.EvalSymlinks(root)
	}
	if err != nil {
		return nil, runtimeErr("root %s: %w", spec.Root, err)
	}
	if st, err := os.Stat(root); err != nil || !st.IsDir() {
		return nil, runtimeErr("root %s: not a directory", spec.Root)
	}
	switch spec.Network {
	case "", NetworkHost, NetworkNone, NetworkPrivate:
	default:
		return nil, runtimeErr("network %q: want %q, %q or %q", spec.Network, NetworkHost, NetworkNone, NetworkPrivate)
	}
	if err := checkPorts(spec); err != nil {
		return nil, runtimeErr("%w", err)
	}
	for _, m := range spec.Mounts {
		if !strings.HasPrefix(m.Target, "/") {
			return nil, runtimeErr("mount target %q: not an absolute path", m.Target)
		}
		if err := checkMountTarget(m.Target); err != nil {
			return nil, runtimeErr("%w", err)
		}
		if m.Type == "tmpfs" {
			if _, _, err := tmpfsOptions(m.Options, m.ReadOnly); err != nil {
				return nil, runtimeErr("mount %s: %w", m.Target, err)
			}
		}
		if m.Type != "tmpfs" && !filepath.IsAbs(m.Source) {
			return nil, runtimeErr("mount source %q: not an absolute path", m.Source)
		}
	}
	if len(spec.ExtraHosts) > 0 && !rootHasFile(spec.Root, "etc/hosts") {
		// Its lines would go nowhere: the root's own files are never
		// written (bindEtcFiles).
		return nil, runtimeErr("extra hosts: the root has no /etc/hosts file to bind them over")
	}
	if len(spec.DNS)+len(spec.DNSSearch)+len(spec.DNSOptions) > 0 {
		if spec.Network == NetworkNone {
			return nil, runtimeErr("DNS settings: the network is none: there is nothing to resolve with")
		}
		if !rootHasFile(spec.Root, "etc/resolv.conf") {
			return nil, runtimeErr("DNS settings: the root has no /etc/resolv.conf file to bind them over")
		}
	}
	caps, err := capSet(spec.Privileged, spec.CapAdd, spec.CapDrop)
	if err != nil {
		return nil, runtimeErr("%w", err)
	}
	if os.Geteuid() != 0 {
		if err := rootlessCheck(spec); err != nil {
			return nil, err
		}
	}
	host := spec.Hostname
	if host == "" {
		host = DefaultHostname
	}
	return &initConfig{
		Root: root, Args: spec.Args, Env: spec.Env, Cwd: spec.Cwd, User: spec.User, GroupAdd: spec.GroupAdd,
		Hostname: host, Terminal: spec.Terminal, Mounts: spec.Mounts,
		ReadOnlyRoot: spec.ReadOnlyRoot, NewNet: newNet(spec),
		HostDNS:    spec.Network != NetworkNone,
		Privileged: spec.Privileged, Caps: caps, Init: spec.Init,
		UserNS: os.Geteuid() != 0, Rlimits: spec.Rlimits, Devices: spec.Devices,
		Sysctls: spec.Sysctls,
	}, nil
}

// container is a started container seen from Run.
type container struct {
	cmd     *osexec.Cmd
	spec    *Spec
	master  *os.File      // pty master (Terminal)
	ttyFd   int           // caller's terminal, or -1
	oldTerm *term.State   // caller's terminal state to restore
	output  chan struct{} // closed when pty output is drained
	// ttyChild is the init's end of the socket the pty master comes
	// back over; the parent closes it once the init started.
	ttyChild *os.File
	net      *privateNet // for NetworkPrivate
	// reaped is closed once the command (a direct start's) or the init
	// has been waited for (waitCmd): the thread that forked it, held
	// until then, may then end or serve again.
	reaped   chan struct{}
	reapOnce sync.Once
	// joined: a command joining a running container (exec), whose
	// terminal a process it left behind may hold open.
	joined bool
}

// waitCmd waits for the command or the init, and releases the thread
// that forked it.
func (c *container) waitCmd() error {
	err := c.cmd.Wait()
	c.reapOnce.Do(func() {
		if c.reaped != nil {
			close(c.reaped)
		}
	})
	return err
}

func (c *container) close() {
	if c.oldTerm != nil {
		term.Restore(c.ttyFd, c.oldTerm)
	}
	if c.master != nil {
		c.master.Close()
	}
}

// startTerminalIO copies between the caller and the pty master. The caller's
// terminal goes into raw mode; container.close restores it.
func (c *container) startTerminalIO() {
	if c.ttyFd >= 0 && c.ttyFd == fdOf(c.spec.Stdin) {
		if old, err := term.MakeRaw(c.ttyFd); err == nil {
			c.oldTerm = old
		}
	}
	c.output = make(chan struct{})
	go func() {
		defer close(c.output)
		if c.spec.Stdout != nil {
			io.Copy(c.spec.Stdout, c.master) // ends with EIO once the container is gone
		} else {
			io.Copy(io.Discard, c.master)
		}
	}()
	if c.spec.Stdin != nil {
		go io.Copy(c.master, c.spec.Stdin)
	}
}

func fdOf(v any) int {
	if f, ok := v.(*os.File); ok && f != nil {
		return int(f.Fd())
	}
	return -2
}

// wait forwards signals until the container's pid 1 exits.
func (c *container) wait(ctx context.Context, sigs chan os.Signal) (int, error) {
	done := make(chan struct{})
	forwarder := make(chan struct{})
	go func() {
		defer close(forwarder)
		var esc escalation
		defer esc.stop()
		for {
			select {
			case s := <-sigs:
				if s == unix.SIGWINCH && c.master != nil {
					if c.ttyFd >= 0 {
						copySize(c.ttyFd, c.master)
					}
					continue
				}
				if esc.note(s, c.spec.StopTimeout) {
					c.cmd.Process.Kill()
					continue
				}
				c.cmd.Process.Signal(s)
			case ws := <-c.spec.Resize:
				if c.master != nil {
					unix.IoctlSetWinsize(int(c.master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: ws.Rows, Col: ws.Cols})
				}
			case <-esc.expired():
				c.cmd.Process.Kill()
			case <-ctx.Done():
				c.cmd.Process.Kill()
				return
			case <-done:
				return
			}
		}
	}()
	err := c.waitCmd()
	close(done)
	<-forwarder // it uses the pty master, which close releases
	if c.output != nil {
		c.drainOutput()
	}
	if err != nil && !errors.As(err, new(*osexec.ExitError)) && !errors.Is(err, osexec.ErrWaitDelay) {
		return CodeRuntime, runtimeErr("wait: %w", err)
	}
	ws, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok {
		return CodeRuntime, runtimeErr("wait: no status")
	}
	if ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	return ws.ExitStatus(), nil
}

// drainOutput waits for the terminal's output to be copied out: all of it
// for a run, whose terminal ends with the container; for a joined command
// what it wrote before it ended, as a child it left behind may hold the
// terminal open.
func (c *container) drainOutput() {
	if !c.joined {
		<-c.output
		return
	}
	select {
	case <-c.output:
	case <-time.After(time.Second):
	}
}

const tmpPrefix = "strata-run-"

// rootHasFile reports whether the root at dir has a regular file at p.
func rootHasFile(dir, p string) bool {
	root, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(root)
	fd, err := openInRoot(root, p, unix.O_PATH)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	return unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG
}

// writeEtcFiles writes the hostname, hosts (with spec's extra "NAME:IP"
// lines) and resolv.conf (with spec's DNS settings) the container gets
// (by bind mount; the root's own files are never changed).
func writeEtcFiles(dir string, cfg *initConfig, spec *Spec) error {
	hosts := "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t" + cfg.Hostname + "\n"
	for _, h := range spec.ExtraHosts {
		name, ip, _ := strings.Cut(h, ":")
		hosts += ip + "\t" + name + "\n"
	}
	resolv := []byte("# strata: no network\n")
	if cfg.HostDNS {
		if b, err := os.ReadFile("/etc/resolv.conf"); err == nil {
			if spec.Network == NetworkPrivate {
				b = privateResolvConf(b, func() ([]byte, error) { return os.ReadFile(systemdResolvConf) })
			}
			resolv = resolvConf(b, spec)
		}
	}
	files := map[string][]byte{
		"hostname":    []byte(cfg.Hostname + "\n"),
		"hosts":       []byte(hosts),
		"resolv.conf": resolv,
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return os.Chmod(dir, 0o755)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// checkMountTarget refuses targets a mount cannot take: / (the root is
// the revision) and /proc or below (proc is mounted over it after the
// spec's mounts, so such a mount would be hidden, and its mount point
// made in the tree), as docker and runc refuse them.
func checkMountTarget(target string) error {
	switch t := path.Clean(target); {
	case t == "/":
		return fmt.Errorf("mount target %s: the root cannot be a mount", target)
	case t == "/proc" || strings.HasPrefix(t, "/proc/"):
		return fmt.Errorf("mount target %s: /proc and below cannot be mounts", target)
	}
	return nil
}
