package exec

import (
	"bufio"
	"bytes"
	"strings"
)

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
