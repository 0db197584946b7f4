//go:build !strata_init

package exec

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"strconv"
	"strings"
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
		return nil, runtimeErr("extra hosts: the root has no /etc/hosts file to bind them over: add one to the root, an empty one will do")
	}
	if len(spec.DNS)+len(spec.DNSSearch)+len(spec.DNSOptions) > 0 {
		if spec.Network == NetworkNone {
			return nil, runtimeErr("DNS settings: the network is none: there is nothing to resolve with")
		}
		if !rootHasFile(spec.Root, "etc/resolv.conf") {
			return nil, runtimeErr("DNS settings: the root has no /etc/resolv.conf file to bind them over: add one to the root, an empty one will do")
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

const tmpPrefix = "strata-run-"

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
