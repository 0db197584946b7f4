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
	replaced := map[string][]string{"nameserver": nil, "search": nil, "options": nil}
	set := func(key string, values []string) {
		if len(values) > 0 {
			replaced[key] = values
		}
	}
	set("nameserver", spec.DNS)
	set("search", spec.DNSSearch)
	set("options", spec.DNSOptions)
	sc := bufio.NewScanner(bytes.NewReader(host))
	for sc.Scan() {
		line := sc.Text()
		key, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		if key == "domain" && len(spec.DNSSearch) > 0 {
			continue // search replaces domain, as in resolv.conf(5)
		}
		if vs, ok := replaced[key]; ok && vs != nil {
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
