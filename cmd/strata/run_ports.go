package main

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/strata-sh/strata/exec"
)

// checkForegroundPorts refuses the ephemeral host ports of a foreground
// run's ports (o.ports), and its host port ranges: only a detached run
// has a record that keeps the port the kernel (or the range) gave it,
// for strata port, ps and inspect to show.
func (o runOptions) checkForegroundPorts(ports []exec.Port) error {
	picked := func(p exec.Port) bool { return p.HostPort == 0 || p.HostPortLast != 0 }
	if !slices.ContainsFunc(ports, picked) {
		return nil
	}
	for _, v := range o.publish {
		ps, err := exec.ParsePorts(v)
		if err == nil && slices.ContainsFunc(ps, func(p exec.Port) bool { return p.HostPortLast != 0 }) {
			return usagef("run -p %s: a host port range is for a detached run, whose ports 'strata port' shows: add -d, or give one host port", v)
		}
		if err != nil || slices.ContainsFunc(ps, picked) {
			return usagef("run -p %s: an ephemeral host port is for a detached run, whose ports 'strata port' shows: add -d, or give the host port", v)
		}
	}
	return usagef("run -P: ephemeral host ports are for a detached run, whose ports 'strata port' shows: add -d")
}

// ports are the ports the run publishes: its -p flags, then with -P
// every exposed port (the image's EXPOSE and --expose) that -p does not
// publish, each on an ephemeral host port. image is the image config's
// ExposedPorts ("80/tcp"); nil where it is not known yet (run -d's
// checks before its supervisor reads the revision).
func (o runOptions) ports(image map[string]struct{}) ([]exec.Port, error) {
	var ps []exec.Port
	for _, v := range o.publish {
		p, err := exec.ParsePorts(v)
		if err == nil {
			err = exec.CheckPortProto(p[0].Proto) // sctp: docker's proxy has it, strata's not
		}
		if err != nil {
			return nil, usagef("run -p %s: %v", v, err)
		}
		ps = append(ps, p...)
	}
	if len(ps) > 0 && o.network != exec.NetworkPrivate {
		return nil, usagef("run -p: needs --network private")
	}
	exposed, err := o.exposedPorts(image)
	if err != nil {
		return nil, err
	}
	if o.publishAll {
		published := map[string]bool{}
		for _, p := range ps {
			published[portKey(p.ContainerPort, p.Proto)] = true
		}
		var all []exec.Port
		for _, e := range exposed {
			port, proto, _ := strings.Cut(e, "/")
			n, err := strconv.Atoi(port)
			// sctp is exposed, not published: the proxy carries tcp
			// and udp.
			if published[e] || proto != "tcp" && proto != "udp" || err != nil || n < 1 || n > 65535 {
				continue
			}
			all = append(all, exec.Port{ContainerPort: n, Proto: proto})
		}
		if len(all) > 0 && o.network != exec.NetworkPrivate {
			return nil, usagef("run -P: needs --network private (exposed: %s)", strings.Join(exposed, ", "))
		}
		ps = append(ps, all...)
	}
	if len(ps) > exec.MaxPorts {
		return nil, usagef("run: %d ports to publish, more than a run publishes (%d)", len(ps), exec.MaxPorts)
	}
	return ps, nil
}

// exposedPorts are the ports the run exposes, as docker's Config.ExposedPorts:
// the image's, --expose's and those -p publishes, "80/tcp", in port order.
func (o runOptions) exposedPorts(image map[string]struct{}) ([]string, error) {
	set := map[string]struct{}{}
	for k := range image {
		if !strings.Contains(k, "/") {
			k += "/tcp" // as docker reads an image's "80"
		}
		set[strings.ToLower(k)] = struct{}{}
	}
	for _, v := range o.expose {
		ports, err := parseExpose(v)
		if err != nil {
			return nil, usagef("run --expose %s: %v", v, err)
		}
		for _, p := range ports {
			set[p] = struct{}{}
		}
	}
	for _, v := range o.publish {
		ps, _ := exec.ParsePorts(v) // checked by ports
		for _, p := range ps {
			set[portKey(p.ContainerPort, p.Proto)] = struct{}{}
		}
	}
	return sortPorts(slices.Collect(maps.Keys(set))), nil
}

// parseExpose reads --expose PORT[/PROTO] or FIRST-LAST[/PROTO]
// (exec.ParseExposed), in docker's words: no IP or host port here.
func parseExpose(v string) ([]string, error) {
	if strings.Contains(v, ":") {
		return nil, fmt.Errorf("invalid port format for --expose: %s", v)
	}
	ports, err := exec.ParseExposed(v)
	if err != nil && !errors.Is(err, exec.ErrPortProto) {
		return nil, fmt.Errorf("invalid range format for --expose: %s, error: %w", v, err)
	}
	return ports, err
}

// portKey is docker's name of a container port: "80/tcp".
func portKey(port int, proto string) string {
	if proto == "" {
		proto = "tcp"
	}
	return strconv.Itoa(port) + "/" + proto
}

// sortPorts sorts "80/tcp" keys by port, then protocol.
func sortPorts(keys []string) []string {
	slices.SortFunc(keys, func(a, b string) int {
		pa, qa, _ := strings.Cut(a, "/")
		pb, qb, _ := strings.Cut(b, "/")
		na, _ := strconv.Atoi(pa)
		nb, _ := strconv.Atoi(pb)
		return cmp.Or(cmp.Compare(na, nb), strings.Compare(qa, qb))
	})
	return keys
}
