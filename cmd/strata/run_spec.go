package main

import (
	"io"
	"net/netip"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/term"

	"github.com/strata-sh/strata/exec"
	"github.com/strata-sh/strata/objects"
)

// readEnvFiles puts the variables of the --env-files before -e's, which
// wins, as in docker.
func (o *runOptions) readEnvFiles() error {
	if len(o.envFiles) == 0 {
		return nil
	}
	fileEnv, err := readEnvFiles(o.envFiles, o.recorded)
	if err != nil {
		return err
	}
	o.env = append(fileEnv, o.env...)
	return nil
}

// spec merges the image config with the flags, as docker run does.
func (o runOptions) spec(g *globals, base *objects.Commit, args []string) (exec.Spec, error) {
	var cfg ocispec.ImageConfig
	if base != nil {
		cfg = base.Config.Config
	}
	entry, cmdArgs := o.command(cfg, args)
	argv := append(append([]string{}, entry...), cmdArgs...)
	if len(argv) == 0 && o.entrypointSet {
		return exec.Spec{}, usagef("run: no command given (--entrypoint \"\" clears the image's Entrypoint and Cmd)")
	}
	if len(argv) == 0 {
		return exec.Spec{}, usagef("run: no command given and the image has no Entrypoint or Cmd")
	}
	s, err := o.flagSpec(g)
	if err != nil {
		return s, err
	}
	if s.Ports, err = o.ports(cfg.ExposedPorts); err != nil {
		return s, err
	}
	// HOSTNAME first, as docker sets it: the image's Env and -e win.
	host := "HOSTNAME=" + firstNonEmpty(o.hostname, exec.DefaultHostname)
	s.Args, s.Env = argv, mergeEnv(append([]string{host}, cfg.Env...), o.env)
	s.Cwd, s.User = firstNonEmpty(o.workdir, cfg.WorkingDir), firstNonEmpty(o.user, cfg.User)
	return s, nil
}

// command is a run's Entrypoint and Cmd, as docker's: the image's,
// --entrypoint replacing the one and dropping the other ("" clears
// both), COMMAND replacing the Cmd.
func (o runOptions) command(cfg ocispec.ImageConfig, args []string) (entry, cmd []string) {
	entry = cfg.Entrypoint
	if o.entrypointSet {
		entry = nil
		if o.entrypoint != "" {
			entry = []string{o.entrypoint}
		}
	}
	cmd = cfg.Cmd
	if len(args) > 0 || o.entrypointSet {
		cmd = args
	}
	return entry, cmd
}

// flagSpec is the part of a run's spec its flags set, without the image's.
func (o runOptions) flagSpec(g *globals) (exec.Spec, error) {
	s := exec.Spec{
		Hostname: o.hostname, Terminal: o.tty,
		Stdout: g.stdout, Stderr: g.stderr, ReadOnlyRoot: o.readOnly, Network: o.network,
		Privileged: o.privileged, CapAdd: o.capAdd, CapDrop: o.capDrop, Init: o.init,
		GroupAdd: o.groupAdd, StopTimeout: time.Duration(o.stopTimeout) * time.Second,
	}
	err := checkIDFlags(o.user, o.groupAdd)
	if err != nil {
		return s, err
	}
	if err := checkWorkdir(o.workdir); err != nil {
		return s, err
	}
	if err := checkSecurityOpts(o.securityOpts); err != nil {
		return s, err
	}
	if o.hostname != "" && !validHostname(o.hostname) {
		return s, usagef("--hostname %q: want RFC 1123 labels of letters, digits and '-', dot-separated, at most 63 characters", o.hostname)
	}
	if err := checkEnvNames(o.env); err != nil {
		return s, err
	}
	for _, h := range o.addHosts {
		line, err := parseAddHost(h)
		if err != nil {
			return s, err
		}
		s.ExtraHosts = append(s.ExtraHosts, line)
	}
	if s.Rlimits, err = parseUlimits(o.ulimits); err != nil {
		return s, err
	}
	if s.Devices, err = parseDevices(o.devices); err != nil {
		return s, err
	}
	for _, kv := range o.sysctls {
		if err := exec.CheckSysctl(kv, o.network); err != nil {
			return s, usagef("--sysctl %s: %v", exec.ShortSysctl(kv), err)
		}
	}
	s.Sysctls = o.sysctls
	if s.DNS, s.DNSSearch, s.DNSOptions, err = o.dnsSettings(); err != nil {
		return s, err
	}
	if o.stopSignal != "" {
		if _, err := parseSignal(o.stopSignal); err != nil {
			return s, usagef("--stop-signal %s: %v", o.stopSignal, err)
		}
	}
	if err := checkNetwork(o.network); err != nil {
		return s, err
	}
	if o.interactive { // -t alone gives a terminal for output only, as docker's
		s.Stdin = g.stdin
	}
	if !o.attached("stdout") { // -a: what is not attached goes nowhere
		s.Stdout = nil
	}
	if !o.attached("stderr") {
		s.Stderr = nil
	}
	if s.Mounts, err = o.mounts(); err != nil {
		return s, err
	}
	if err := pinBindSources(s.Mounts, o.recorded); err != nil {
		return s, err
	}
	return s, nil
}

// validHostname reports whether h is a host name as RFC 1123 has it
// (and runc and the kernel take it): dot-separated labels of 1 to 63
// letters, digits and '-', neither first nor last in a label, 63 bytes at
// most in all (HOST_NAME_MAX is 64 with its NUL). It goes into /etc/hosts.
func validHostname(h string) bool {
	if len(h) == 0 || len(h) > 63 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			switch c := label[i]; {
			case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-':
			default:
				return false
			}
		}
	}
	return true
}

// parseAddHost reads docker's --add-host NAME:IP (NAME=IP too; an IPv6
// address as it is or in brackets) into "NAME:IP".
func parseAddHost(v string) (string, error) {
	i := strings.IndexAny(v, ":=")
	if i <= 0 {
		return "", usagef("--add-host %s: want NAME:IP", v)
	}
	name, ip := v[:i], strings.TrimSuffix(strings.TrimPrefix(v[i+1:], "["), "]")
	if ip == "host-gateway" {
		return "", usagef("--add-host %s: host-gateway is docker's own; give the address", v)
	}
	if len(name) > 253 || strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") != "" {
		return "", usagef("--add-host %s: %q is not a host name", v, name)
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return "", usagef("--add-host %s: %q is not an IP address", v, ip)
	}
	return name + ":" + addr.String(), nil
}

// checkWorkdir refuses a relative -w, as docker does: it was taken from
// the root, and "-w build" ran in a /build made there.
func checkWorkdir(dir string) error {
	if dir != "" && !path.IsAbs(dir) {
		return usagef("-w %s: the working directory must be an absolute path", dir)
	}
	return nil
}

// checkSecurityOpts takes docker's --security-opt no-new-privileges
// (also with ":true" or "=true", any true of ParseBool), which every run has; any other option
// (seccomp=, apparmor=, label=, no-new-privileges:false) would be
// ignored, so it is refused.
func checkSecurityOpts(opts []string) error {
	for _, opt := range opts {
		key, val, hasVal := strings.Cut(opt, "=")
		if !hasVal {
			key, val, hasVal = strings.Cut(opt, ":")
		}
		if key != "no-new-privileges" {
			return usagef("--security-opt %s: not supported (strata takes only no-new-privileges, which every run has; --privileged runs without seccomp)", opt)
		}
		if on, err := strconv.ParseBool(val); hasVal && (err != nil || !on) {
			return usagef("--security-opt %s: no_new_privs is always set", opt)
		}
	}
	return nil
}

// checkEnvNames refuses -e values without a name ("=x"), as podman
// does: the process would get an environment entry no shell can read.
func checkEnvNames(env []string) error {
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k == "" {
			return usagef("-e %s: no variable name", kv)
		}
	}
	return nil
}

// checkTerminal refuses -it when stdin is not a terminal, as docker does:
// the terminal would wait for input that can never end it (a pipe's EOF
// is no ^D to a pty).
func checkTerminal(stdin io.Reader) error {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return usagef("the input device is not a TTY (-it needs a terminal; use -i alone for a pipe)")
}

// mergeEnv lays -e values over the image's Env; "-e KEY" copies KEY from
// this process's environment, as docker does.
func mergeEnv(image, flags []string) []string {
	out := append([]string{}, image...)
	index := map[string]int{}
	for i, kv := range out {
		k, _, _ := strings.Cut(kv, "=")
		index[k] = i
	}
	for _, kv := range flags {
		k, _, hasValue := strings.Cut(kv, "=")
		if !hasValue {
			v, ok := os.LookupEnv(k)
			if !ok {
				continue
			}
			kv = k + "=" + v
		}
		if i, ok := index[k]; ok {
			out[i] = kv
		} else {
			index[k] = len(out)
			out = append(out, kv)
		}
	}
	return out
}

// dnsSettings checks --dns (IP addresses), --dns-search (domains) and
// --dns-option (resolver options), as docker's: each is one word.
func (o runOptions) dnsSettings() (dns, search, options []string, err error) {
	for _, ip := range o.dns {
		if _, perr := netip.ParseAddr(ip); perr != nil {
			return nil, nil, nil, usagef("--dns %s: not an IP address", ip)
		}
	}
	for _, l := range [][]string{o.dnsSearch, o.dnsOptions} {
		for _, v := range l {
			if v == "" || strings.ContainsAny(v, " \t\n\r#;") {
				return nil, nil, nil, usagef("--dns-search/--dns-option %q: one word, without spaces, # or ;", v)
			}
		}
	}
	return o.dns, o.dnsSearch, o.dnsOptions, nil
}

// checkNetwork refuses a --network mode strata does not have (run and
// build's RUN steps). Docker's names for its default mode, bridge and
// default, are answered with strata's: private is docker's bridge network
// but for traffic between containers, which it does not let through.
func checkNetwork(mode string) error {
	switch mode {
	case exec.NetworkHost, exec.NetworkNone, exec.NetworkPrivate:
		return nil
	case "bridge", "default":
		return usagef("--network %s: must be host, private or none (private is docker's bridge network, with no traffic between containers)", mode)
	}
	return usagef("--network %s: must be host, private or none", mode)
}
