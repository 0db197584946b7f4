//go:build !strata_init

package exec

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

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
	}
	return nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
