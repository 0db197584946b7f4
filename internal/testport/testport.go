// Package testport hands tests TCP ports of 127.0.0.1 to publish on that
// stay theirs until they let go. A port a listener on ":0" got and closed
// again is one the kernel hands out next, to any connect or listen on the
// machine (a registry's client, another test), before the code under test
// binds it (EADDRINUSE). Ports here are picked below the kernel's
// ephemeral range (ip_local_port_range), which it never hands out by
// itself, and each is claimed by an abstract unix socket named after it,
// which the kernel drops when the process ends, however it ends: two test
// processes never pick the same port.
package testport

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
)

// span is how many ports below the ephemeral range are picked from.
const span = 4096

// Reserve claims n consecutive TCP ports, free on 127.0.0.1 and on all
// addresses, and returns the first. release lets them go.
func Reserve(n int) (first int, release func(), err error) {
	lo, hi, err := pickRange()
	if err != nil {
		return 0, nil, err
	}
	start := lo + rand.IntN(hi-lo)
	for i := 0; i < hi-lo; i++ {
		first := lo + (start-lo+i)%(hi-lo)
		if first+n > hi {
			continue
		}
		if claims, ok := claim(first, n); ok {
			return first, func() { closeAll(claims) }, nil
		}
	}
	return 0, nil, fmt.Errorf("no %d free ports in a row in %d-%d", n, lo, hi-1)
}

// For is Reserve for a test: it fails t if no ports are free, and lets
// them go when t ends.
func For(t testing.TB, n int) int {
	t.Helper()
	first, release, err := Reserve(n)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(release)
	return first
}

// pickRange is the span of ports just below the ephemeral range.
func pickRange() (lo, hi int, err error) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0, 0, err
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0, 0, fmt.Errorf("ip_local_port_range: %q", b)
	}
	hi, err = strconv.Atoi(f[0])
	if err != nil {
		return 0, 0, fmt.Errorf("ip_local_port_range: %w", err)
	}
	lo = max(hi-span, 1024)
	if hi-lo < 16 {
		return 0, 0, fmt.Errorf("ip_local_port_range starts at %d: no room below it", hi)
	}
	return lo, hi, nil
}

// claim takes ports first..first+n-1 for this process, each free to
// bind now; on any failure it takes none.
func claim(first, n int) ([]net.Listener, bool) {
	var claims []net.Listener
	for p := first; p < first+n; p++ {
		l, err := net.Listen("unix", "@strata-testport-"+strconv.Itoa(p))
		if err != nil {
			closeAll(claims)
			return nil, false // another test process's
		}
		claims = append(claims, l)
		if !bindable(p) {
			closeAll(claims)
			return nil, false
		}
	}
	return claims, true
}

// bindable reports whether port p can be bound now, for TCP and UDP,
// on 127.0.0.1 and on all addresses (a socket on either stops a bind on
// the other).
func bindable(p int) bool {
	for _, addr := range []string{"127.0.0.1", "0.0.0.0"} {
		hostPort := net.JoinHostPort(addr, strconv.Itoa(p))
		l, err := net.Listen("tcp4", hostPort)
		if err != nil {
			return false
		}
		l.Close()
		c, err := net.ListenPacket("udp4", hostPort)
		if err != nil {
			return false
		}
		c.Close()
	}
	return true
}

func closeAll(ls []net.Listener) {
	for _, l := range ls {
		l.Close()
	}
}
