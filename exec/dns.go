package exec

import (
	"bufio"
	"bytes"
	"net/netip"
	"strings"
)

// systemdResolvConf lists systemd-resolved's upstream servers, which its
// stub at 127.0.0.53 forwards to.
var systemdResolvConf = "/run/systemd/resolve/resolv.conf"

// privateDNS are docker's nameservers for a container whose host has none
// it can reach.
var privateDNS = []string{"8.8.8.8", "8.8.4.4"}

// privateResolvConf adapts the host's resolv.conf to a private network,
// as docker does for its bridge: there 127.0.0.1 is the container's own
// lo, so a resolver on the host's loopback (systemd-resolved's
// 127.0.0.53, a dnsmasq on 127.0.0.1) answers nothing, and the network
// has no IPv6. systemd-resolved's upstream servers (read by upstream)
// stand in for its stub; loopback and IPv6 nameservers are dropped, and
// when none is left the container gets privateDNS.
func privateResolvConf(host []byte, upstream func() ([]byte, error)) []byte {
	if hasNameserver(host, netip.MustParseAddr("127.0.0.53")) {
		if b, err := upstream(); err == nil {
			host = b
		}
	}
	var out bytes.Buffer
	kept := 0
	sc := bufio.NewScanner(bytes.NewReader(host))
	for sc.Scan() {
		line := sc.Text()
		if a, ok := nameserver(line); ok {
			if a.IsLoopback() || !a.Is4() {
				continue
			}
			kept++
		}
		out.WriteString(line + "\n")
	}
	if kept == 0 {
		for _, ns := range privateDNS {
			out.WriteString("nameserver " + ns + "\n")
		}
	}
	return out.Bytes()
}

// nameserver is the address of a "nameserver ADDR" line.
func nameserver(line string) (netip.Addr, bool) {
	f := strings.Fields(line)
	if len(f) < 2 || f[0] != "nameserver" {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(f[1])
	return a.Unmap(), err == nil
}

func hasNameserver(conf []byte, want netip.Addr) bool {
	for _, line := range strings.Split(string(conf), "\n") {
		if a, ok := nameserver(line); ok && a == want {
			return true
		}
	}
	return false
}

// resolvConf is the resolv.conf a container gets: the host's (host
// lines as they are), with its nameserver, search and options lines
// replaced by spec's where spec sets them (docker's --dns, --dns-search,
// --dns-option).
func resolvConf(host []byte, spec *Spec) []byte {
	if len(spec.DNS) == 0 && len(spec.DNSSearch) == 0 && len(spec.DNSOptions) == 0 {
		return host
	}
	var out bytes.Buffer
	// The host's lines of a kind spec sets are dropped (search also
	// replaces domain, as in resolv.conf(5)).
	drop := map[string]bool{"nameserver": len(spec.DNS) > 0, "search": len(spec.DNSSearch) > 0,
		"domain": len(spec.DNSSearch) > 0, "options": len(spec.DNSOptions) > 0}
	sc := bufio.NewScanner(bytes.NewReader(host))
	for sc.Scan() {
		line := sc.Text()
		key, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		if drop[key] {
			continue
		}
		out.WriteString(line + "\n")
	}
	for _, ns := range spec.DNS {
		out.WriteString("nameserver " + ns + "\n")
	}
	if len(spec.DNSSearch) > 0 {
		out.WriteString("search " + strings.Join(spec.DNSSearch, " ") + "\n")
	}
	if len(spec.DNSOptions) > 0 {
		out.WriteString("options " + strings.Join(spec.DNSOptions, " ") + "\n")
	}
	return out.Bytes()
}
