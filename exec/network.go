package exec

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	osexec "os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// NetworkPrivate gives the container its own network namespace, connected
// to the outside by pasta (package passt): outbound TCP, UDP and ICMP leave
// through sockets pasta opens on the host, and Ports are the only way in.
// The container cannot reach the host's loopback services (--no-map-gw,
// -T none, -U none) nor another container's unpublished ports.
const NetworkPrivate = "private"

// DefaultPortIP is the host address a Port without one is published on:
// loopback, so that a published port is never open to the network by
// accident (docker's default of every interface is a common surprise).
const DefaultPortIP = "127.0.0.1"

// Port is a published port: connections to HostIP:HostPort on the host are
// forwarded to ContainerPort inside a private network.
type Port struct {
	HostIP        string // default DefaultPortIP; "0.0.0.0" for every interface
	HostPort      int
	ContainerPort int
	Proto         string // "tcp" (default) or "udp"
}

func (p Port) String() string {
	ip := p.HostIP
	if ip == "" {
		ip = DefaultPortIP
	}
	proto := p.Proto
	if proto == "" {
		proto = "tcp"
	}
	return fmt.Sprintf("%s->%d/%s", net.JoinHostPort(ip, strconv.Itoa(p.HostPort)), p.ContainerPort, proto)
}

// ParsePort reads docker's -p syntax: [IP:]HOST:CONTAINER[/tcp|udp].
func ParsePort(s string) (Port, error) {
	var p Port
	spec, proto, ok := strings.Cut(s, "/")
	p.Proto = "tcp"
	if ok {
		if proto != "tcp" && proto != "udp" {
			return p, fmt.Errorf("port %q: protocol must be tcp or udp", s)
		}
		p.Proto = proto
	}
	i := strings.LastIndex(spec, ":")
	if i < 0 {
		return p, fmt.Errorf("port %q: want [IP:]HOST:CONTAINER", s)
	}
	hostPart, ctr := spec[:i], spec[i+1:]
	host := hostPart
	if j := strings.LastIndex(hostPart, ":"); j >= 0 {
		ip := strings.TrimSuffix(strings.TrimPrefix(hostPart[:j], "["), "]")
		a, err := netip.ParseAddr(ip)
		if err != nil || a.Zone() != "" {
			return p, fmt.Errorf("port %q: bad address %q", s, ip)
		}
		p.HostIP, host = a.String(), hostPart[j+1:]
	}
	var err error
	if p.HostPort, err = portNumber(host); err != nil {
		return p, fmt.Errorf("port %q: host port: %w", s, err)
	}
	if p.ContainerPort, err = portNumber(ctr); err != nil {
		return p, fmt.Errorf("port %q: container port: %w", s, err)
	}
	return p, nil
}

func portNumber(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("%q is not a port number (1-65535)", s)
	}
	return n, nil
}

// pastaArgs are the options for pasta joining the namespace open as fd 3.
func pastaArgs(ports []Port) []string {
	args := []string{
		"--config-net", "--foreground", "--quiet",
		// pasta drops to nobody as root, which may not open or join a
		// root container's namespace.
		"--runas", "0",
		"--no-map-gw",              // the gateway address is not the host's loopback
		"-T", "none", "-U", "none", // nor are the container's own loopback ports
		"--pid", "/proc/self/fd/4", // a line on the pipe: configured
		"--netns", "/proc/self/fd/3",
	}
	var tcp, udp []string
	for _, p := range ports {
		ip := p.HostIP
		if ip == "" {
			ip = DefaultPortIP
		}
		s := fmt.Sprintf("%s/%d:%d", ip, p.HostPort, p.ContainerPort)
		if p.Proto == "udp" {
			udp = append(udp, s)
		} else {
			tcp = append(tcp, s)
		}
	}
	// pasta's default is "auto" (every port bound inside): publish only
	// what was asked for.
	if len(tcp) == 0 {
		tcp = []string{"none"}
	}
	if len(udp) == 0 {
		udp = []string{"none"}
	}
	for _, s := range tcp {
		args = append(args, "-t", s)
	}
	for _, s := range udp {
		args = append(args, "-u", s)
	}
	return args
}

// netHelper is the pasta process serving one container's namespace.
type netHelper struct {
	cmd  *osexec.Cmd
	once sync.Once
}

// startPasta connects the network namespace of pid to the outside and
// returns once pasta has configured it. pasta holds the namespace open,
// so it does not quit when the container does: stop ends it, and its
// parent-death signal ends it if strata is killed.
func startPasta(pid int, ports []Port) (*netHelper, error) {
	bin, err := osexec.LookPath("pasta")
	if err != nil {
		return nil, fmt.Errorf("network private: pasta not found (install package passt): %w", err)
	}
	ns, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", pid))
	if err != nil {
		return nil, fmt.Errorf("network private: %w", err)
	}
	defer ns.Close()
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("network private: %w", err)
	}
	defer r.Close()
	stderr := &tailBuffer{max: 4096}
	cmd := &osexec.Cmd{
		Path:        bin,
		Args:        append([]string{"pasta"}, pastaArgs(ports)...),
		Env:         []string{},
		ExtraFiles:  []*os.File{ns, w},
		Stderr:      stderr, // its reason for a failed start; bounded, it lives as long as the run
		SysProcAttr: &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL},
	}
	err = cmd.Start()
	w.Close()
	if err != nil {
		return nil, fmt.Errorf("network private: start pasta: %w", err)
	}
	h := &netHelper{cmd: cmd}
	line, rerr := bufio.NewReader(r).ReadString('\n')
	if rerr != nil || strings.TrimSpace(line) == "" {
		// pasta exited before it was ready: its last line says why.
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("network private: pasta: %s", pastaReason(stderr.String()))
	}
	return h, nil
}

// pastaReason is the last meaningful line pasta printed.
func pastaReason(out string) string {
	var last string
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "Failed to send") || strings.HasPrefix(l, "Don't run as root") {
			continue
		}
		last = l
	}
	if last == "" {
		return "exited during setup"
	}
	return last
}

// stop ends pasta; safe to call more than once and on nil.
func (h *netHelper) stop() {
	if h == nil {
		return
	}
	h.once.Do(func() {
		h.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { h.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			h.cmd.Process.Kill()
			<-done
		}
	})
}

var errPrivateRootless = fmt.Errorf("network private needs root: %w", ErrRootless)

func checkPorts(spec *Spec) error {
	if spec.Network == NetworkPrivate && os.Geteuid() != 0 {
		return errPrivateRootless
	}
	if len(spec.Ports) > 0 && spec.Network != NetworkPrivate {
		return fmt.Errorf("published ports need network %q", NetworkPrivate)
	}
	for _, p := range spec.Ports {
		if p.HostIP != "" {
			if _, err := netip.ParseAddr(p.HostIP); err != nil {
				return fmt.Errorf("port %v: bad host address %q", p, p.HostIP)
			}
		}
		if p.HostPort < 1 || p.HostPort > 65535 || p.ContainerPort < 1 || p.ContainerPort > 65535 {
			return fmt.Errorf("port %d:%d: out of range", p.HostPort, p.ContainerPort)
		}
		if p.Proto != "" && p.Proto != "tcp" && p.Proto != "udp" {
			return fmt.Errorf("port protocol %q: want tcp or udp", p.Proto)
		}
		if err := bindable(p); err != nil {
			return err
		}
	}
	return nil
}

// bindable tries the host side of p, so that a port in use is reported
// plainly before anything starts (pasta's own report stays the fallback
// for a port taken in between).
func bindable(p Port) error {
	ip := p.HostIP
	if ip == "" {
		ip = DefaultPortIP
	}
	addr := net.JoinHostPort(ip, strconv.Itoa(p.HostPort))
	var err error
	if p.Proto == "udp" {
		var c net.PacketConn
		if c, err = net.ListenPacket("udp", addr); err == nil {
			c.Close()
		}
	} else {
		var l net.Listener
		if l, err = net.Listen("tcp", addr); err == nil {
			l.Close()
		}
	}
	if err != nil {
		var se *os.SyscallError
		if errors.As(err, &se) {
			err = se.Err
		}
		return fmt.Errorf("publish %s/%s: %w", addr, firstNonEmpty(p.Proto, "tcp"), err)
	}
	return nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
