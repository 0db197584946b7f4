//go:build !strata_init

package exec

import (
	"errors"
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

// MaxPorts bounds the ports one run publishes: each is a socket and a
// goroutine of strata's for as long as the run lives.
const MaxPorts = 1024

// ParsePorts reads docker's -p syntax, [[IP:][HOST]:]CONTAINER[/PROTO],
// where CONTAINER (and HOST with it) may be a range, 8000-8002. A HOST
// of 0 or none (":80", "80", "127.0.0.1::80") is an ephemeral port: the
// kernel picks a free one when the run binds it (Spec.Published tells
// which). A HOST range for one CONTAINER port (8000-8002:80) is one Port
// with HostPortLast: the run binds the first free one of the range.
// PROTO is tcp, udp or sctp, as docker reads it; a run refuses sctp
// (checkPorts: its proxy carries tcp and udp). The errors are docker's
// words.
func ParsePorts(s string) ([]Port, error) {
	ip, host, ctr := splitPortSpec(s)
	ctr, proto, _ := strings.Cut(ctr, "/")
	if ctr == "" {
		return nil, fmt.Errorf("no port specified: %s<empty>", s)
	}
	proto, err := portProto(proto)
	if err != nil {
		return nil, err
	}
	if ip != "" {
		a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(ip, "["), "]"))
		if err != nil || a.Zone() != "" {
			return nil, fmt.Errorf("invalid IP address: %s", ip)
		}
		ip = a.String()
	}
	first, last, err := ParsePortRange(ctr)
	if err != nil {
		return nil, fmt.Errorf("invalid containerPort: %s", ctr)
	}
	hostFirst := 0 // ephemeral
	if host != "" && host != "0" {
		hf, hl, err := ParsePortRange(host)
		if err != nil {
			return nil, fmt.Errorf("invalid hostPort: %s", host)
		}
		if first == last && hl > hf {
			// One container port, a host range: docker picks a free
			// port of the range.
			return []Port{{HostIP: ip, HostPort: hf, HostPortLast: hl, ContainerPort: first, Proto: proto}}, nil
		}
		if hl-hf != last-first {
			return nil, fmt.Errorf("invalid ranges specified for container and host Ports: %s and %s", ctr, host)
		}
		hostFirst = hf
	}
	if n := last - first + 1; n > MaxPorts {
		return nil, fmt.Errorf("%d ports, more than a run publishes (%d)", n, MaxPorts)
	}
	var ps []Port
	for i := 0; i <= last-first; i++ {
		p := Port{HostIP: ip, ContainerPort: first + i, Proto: proto}
		if hostFirst != 0 {
			p.HostPort = hostFirst + i
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// splitPortSpec splits IP:HOST:CONTAINER as docker does: the last two
// colons part the ports, whatever is before them is the address.
func splitPortSpec(s string) (ip, host, ctr string) {
	parts := strings.Split(s, ":")
	switch n := len(parts); n {
	case 1:
		return "", "", parts[0]
	case 2:
		return "", parts[0], parts[1]
	default:
		return strings.Join(parts[:n-2], ":"), parts[n-2], parts[n-1]
	}
}

// ErrPortProto is wrapped by the error about a protocol that is not
// tcp, udp or sctp: "invalid proto: http", docker's words.
var ErrPortProto = errors.New("invalid proto")

// portProto is PROTO of PORT/PROTO as docker reads it: lower case, tcp
// when empty, and tcp, udp or sctp.
func portProto(proto string) (string, error) {
	switch proto = strings.ToLower(proto); proto {
	case "":
		return "tcp", nil
	case "tcp", "udp", "sctp":
		return proto, nil
	}
	return "", fmt.Errorf("%w: %s", ErrPortProto, proto)
}

// CheckPortProto says why a run cannot publish a port of protocol proto
// ("" is tcp): its proxy carries tcp and udp, where docker's carries
// sctp too. The words are rootlesskit's, whose port driver has the same
// limit under docker.
func CheckPortProto(proto string) error {
	switch proto {
	case "", "tcp", "udp":
		return nil
	}
	return fmt.Errorf("unsupported protocol %q: strata's port proxy publishes tcp and udp", proto)
}

// ParseExposed reads an exposed port as docker's --expose and EXPOSE
// do, PORT[/PROTO] or FIRST-LAST[/PROTO], into the keys of an image
// config's ExposedPorts: "80/tcp", one a port of the range. The
// protocol is tcp, udp or sctp (lower case; tcp if none). An error is
// ErrPortProto's or ParsePortRange's, in docker's words.
func ParseExposed(s string) ([]string, error) {
	port, proto, _ := strings.Cut(s, "/")
	proto, err := portProto(proto)
	if err != nil {
		return nil, err
	}
	first, last, err := ParsePortRange(port)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, last-first+1)
	for n := first; n <= last; n++ {
		out = append(out, strconv.Itoa(n)+"/"+proto)
	}
	return out, nil
}

// ParseExposeWord reads one word of an EXPOSE instruction as docker's
// builder does, [[ip:]hostPort:]port[-end][/proto], into ParseExposed's
// keys: the ip and host port are ignored. Anything else is an error, as
// buildkit's: a key such as "abc/tcp" or "8000-8002/udp" is not a port
// to whoever reads the image.
func ParseExposeWord(word string) ([]string, error) {
	if i := strings.LastIndex(word, ":"); i >= 0 {
		word = word[i+1:]
	}
	return ParseExposed(word)
}

// ParsePortRange reads "80" or "8000-8002", each port 1-65535 and the
// end not below the start, in docker's words.
func ParsePortRange(s string) (first, last int, err error) {
	a, b, isRange := strings.Cut(s, "-")
	if first, err = portNumber(a); err != nil {
		if isRange {
			return 0, 0, fmt.Errorf("invalid start port '%s': %w", a, err)
		}
		return 0, 0, fmt.Errorf("invalid port '%s': %w", a, err)
	}
	if !isRange {
		return first, first, nil
	}
	if last, err = portNumber(b); err != nil {
		return 0, 0, fmt.Errorf("invalid end port '%s': %w", b, err)
	}
	if last < first {
		return 0, 0, fmt.Errorf("invalid port range: %s", s)
	}
	return first, last, nil
}

// portNumber reads a port as docker's strconv.ParseUint does: digits
// only, no sign ("+80" is refused, as docker refuses it).
func portNumber(s string) (int, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n < 1 {
		return 0, errors.New("not a port number (1-65535)")
	}
	return int(n), nil
}

var errPrivateRootless = fmt.Errorf("network private needs root: %w", ErrRootless)

func checkPorts(spec *Spec) error {
	if spec.Network == NetworkPrivate && os.Geteuid() != 0 {
		return errPrivateRootless
	}
	if len(spec.Ports) > 0 && spec.Network != NetworkPrivate {
		return fmt.Errorf("published ports need network %q", NetworkPrivate)
	}
	if len(spec.Ports) > MaxPorts {
		return fmt.Errorf("%d published ports: at most %d", len(spec.Ports), MaxPorts)
	}
	for _, p := range spec.Ports {
		if p.HostIP != "" {
			if _, err := netip.ParseAddr(p.HostIP); err != nil {
				return fmt.Errorf("port %v: bad host address %q", p, p.HostIP)
			}
		}
		if p.HostPort < 0 || p.HostPort > 65535 || p.ContainerPort < 1 || p.ContainerPort > 65535 {
			return fmt.Errorf("port %d:%d: out of range", p.HostPort, p.ContainerPort)
		}
		if p.HostPortLast != 0 && (p.HostPort < 1 || p.HostPortLast <= p.HostPort || p.HostPortLast > 65535) {
			return fmt.Errorf("port %d-%d:%d: not a host port range", p.HostPort, p.HostPortLast, p.ContainerPort)
		}
		if err := CheckPortProto(p.Proto); err != nil {
			return err
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
