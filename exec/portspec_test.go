package exec

import (
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"testing"

	"github.com/strata-sh/strata/internal/testport"
)

func TestParsePorts(t *testing.T) {
	tcp := func(ip string, host, ctr int) Port {
		return Port{HostIP: ip, HostPort: host, ContainerPort: ctr, Proto: "tcp"}
	}
	good := map[string][]Port{
		"8080:80":            {tcp("", 8080, 80)},
		"127.0.0.1:8080:80":  {tcp("127.0.0.1", 8080, 80)},
		"0.0.0.0:53:53/udp":  {{HostIP: "0.0.0.0", HostPort: 53, ContainerPort: 53, Proto: "udp"}},
		"[::1]:8443:443/tcp": {tcp("::1", 8443, 443)},
		"::1:8443:443":       {tcp("::1", 8443, 443)}, // docker's: the last two colons part the ports
		"80/TCP":             {tcp("", 0, 80)},
		// Ephemeral host ports, as docker's.
		"80":                {tcp("", 0, 80)},
		":80":               {tcp("", 0, 80)},
		"0:80":              {tcp("", 0, 80)},
		"127.0.0.1::80/udp": {{HostIP: "127.0.0.1", ContainerPort: 80, Proto: "udp"}},
		"127.0.0.1:0:80":    {tcp("127.0.0.1", 0, 80)},
		"8000-8001:80-81":   {tcp("", 8000, 80), tcp("", 8001, 81)},
		"80-81":             {tcp("", 0, 80), tcp("", 0, 81)},
		"127.0.0.1::80-81":  {tcp("127.0.0.1", 0, 80), tcp("127.0.0.1", 0, 81)},
		// A host range for one container port: the run picks a free
		// one of it, as docker's.
		"8000-8002:80":           {{HostPort: 8000, HostPortLast: 8002, ContainerPort: 80, Proto: "tcp"}},
		"127.0.0.1:53-54:53/udp": {{HostIP: "127.0.0.1", HostPort: 53, HostPortLast: 54, ContainerPort: 53, Proto: "udp"}},
		// sctp is read, as docker reads it; a run refuses it (checkPorts).
		"1:2/sctp": {{HostPort: 1, ContainerPort: 2, Proto: "sctp"}},
	}
	for in, want := range good {
		got, err := ParsePorts(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("ParsePorts(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	bad := map[string]string{
		"":                 "no port specified: <empty>",
		"8080:":            "no port specified: 8080:<empty>",
		"a:80":             "invalid hostPort: a",
		"8080:0":           "invalid containerPort: 0",
		"8080:70000":       "invalid containerPort: 70000",
		"70000:80":         "invalid hostPort: 70000",
		"+80:80":           "invalid hostPort: +80", // docker's ParseUint takes no sign
		"80:+80":           "invalid containerPort: +80",
		"+8000-8001:80-81": "invalid hostPort: +8000-8001",
		"x.y:1:2":          "invalid IP address: x.y",
		"1:2/foo":          "invalid proto: foo",
		"82-80":            "invalid containerPort: 82-80",
		"8000-8002:80-81":  "invalid ranges specified for container and host Ports: 80-81 and 8000-8002",
		"8002-8000:80":     "invalid hostPort: 8002-8000",
		"8000:80-81":       "invalid ranges specified for container and host Ports: 80-81 and 8000",
		"1-2000":           "2000 ports, more than a run publishes (1024)",
		"1-1025:1-1025":    "1025 ports, more than a run publishes (1024)",
		"fe80::1%eth0::":   "no port specified: fe80::1%eth0::<empty>",
	}
	for in, want := range bad {
		if p, err := ParsePorts(in); err == nil || err.Error() != want {
			t.Errorf("ParsePorts(%q) = %+v, %v; want the error %q", in, p, err, want)
		}
	}
	if _, err := ParsePorts("1-1024"); err != nil {
		t.Errorf("ParsePorts(1-1024): %v; want %d ports", err, MaxPorts)
	}
}

func TestParsePortRange(t *testing.T) {
	for in, want := range map[string]string{
		"80":        "80-80 <nil>",
		"8000-8002": "8000-8002 <nil>",
		"8002-8000": "0-0 invalid port range: 8002-8000",
		"0":         "0-0 invalid port '0': not a port number (1-65535)",
		"x-2":       "0-0 invalid start port 'x': not a port number (1-65535)",
		"1-65536":   "0-0 invalid end port '65536': not a port number (1-65535)",
		"1-":        "0-0 invalid end port '': not a port number (1-65535)",
	} {
		first, last, err := ParsePortRange(in)
		if got := fmt.Sprintf("%d-%d %v", first, last, err); got != want {
			t.Errorf("ParsePortRange(%q) = %s; want %s", in, got, want)
		}
	}
}

// ParseExposed is the one reader of docker's exposed-port syntax: run
// --expose and build's EXPOSE both call it.
func TestParseExposed(t *testing.T) {
	for in, want := range map[string]string{
		"80":              "[80/tcp] <nil>",
		"53/UDP":          "[53/udp] <nil>",
		"7/sctp":          "[7/sctp] <nil>",
		"8000-8002/udp":   "[8000/udp 8001/udp 8002/udp] <nil>",
		"80/http":         "[] invalid proto: http",
		"9000-8000":       "[] invalid port range: 9000-8000",
		"0":               "[] invalid port '0': not a port number (1-65535)",
		"abc/tcp":         "[] invalid port 'abc': not a port number (1-65535)",
		"80-/udp":         "[] invalid end port '': not a port number (1-65535)",
		"65535-65535/tcp": "[65535/tcp] <nil>",
	} {
		got, err := ParseExposed(in)
		if s := fmt.Sprintf("%v %v", got, err); s != want {
			t.Errorf("ParseExposed(%q) = %s; want %s", in, s, want)
		}
	}
	if _, err := ParseExposed("80/http"); !errors.Is(err, ErrPortProto) {
		t.Errorf("ParseExposed(80/http): %v; want ErrPortProto", err)
	}
}

// A host range (-p 8000-8002:80) binds the first free port of it, as
// docker's; with every port of it taken, the run is refused in docker's
// words and nothing stays bound.
func TestListenPortsHostRange(t *testing.T) {
	first := testport.For(t, 2) // a range of two, this process's alone
	taken, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(first)))
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	p, bound, err := listenPorts([]Port{{HostIP: "127.0.0.1", HostPort: first, HostPortLast: first + 1, ContainerPort: 80, Proto: "tcp"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []Port{{HostIP: "127.0.0.1", HostPort: first + 1, ContainerPort: 80, Proto: "tcp"}}
	if !slices.Equal(bound, want) {
		t.Errorf("bound %+v; want %+v (the range's first port is taken)", bound, want)
	}
	// Now the whole range is taken: by the test, and by the first proxy.
	_, _, err = listenPorts([]Port{{HostIP: "127.0.0.1", HostPort: first, HostPortLast: first + 1, ContainerPort: 81, Proto: "tcp"}})
	wantErr := fmt.Sprintf("publish 127.0.0.1:%d-%d/tcp: all ports are allocated (address already in use)", first, first+1)
	if err == nil || err.Error() != wantErr {
		t.Errorf("a taken range: %v; want %q", err, wantErr)
	}
	p.close()
	// Closed, the proxy's port is free again.
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(first+1)))
	if err != nil {
		t.Fatalf("the proxy's port after close: %v", err)
	}
	l.Close()
}

// A run refuses sctp: strata's proxy carries tcp and udp.
func TestCheckPortsSCTP(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("checkPorts refuses a private network without root first")
	}
	spec := &Spec{Network: NetworkPrivate, Ports: []Port{{HostPort: 8080, ContainerPort: 80, Proto: "sctp"}}}
	err := checkPorts(spec)
	if want := `unsupported protocol "sctp": strata's port proxy publishes tcp and udp`; err == nil || err.Error() != want {
		t.Errorf("checkPorts(sctp) = %v; want %q", err, want)
	}
}
