package main

import (
	"fmt"
	"strings"

	"github.com/strata-sh/strata/exec"
)

// parseDevices reads run's --device values, docker's
// HOST[:CONTAINER][:PERMS]: a second field of r, w and m alone is PERMS;
// CONTAINER defaults to HOST, PERMS to rwm. Each HOST is looked at now:
// a detached run's at each start.
func parseDevices(values []string) ([]exec.Device, error) {
	var out []exec.Device
	for _, v := range values {
		host, ctr, perms, err := splitDevice(v)
		if err != nil {
			return nil, usagef("--device %s: %v", v, err)
		}
		d, err := exec.HostDevice(host, ctr, perms)
		if err != nil {
			return nil, fmt.Errorf("--device %s: %w", v, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// splitDevice splits HOST[:CONTAINER][:PERMS] as docker-cli's
// parseLinuxDevice does.
func splitDevice(v string) (host, ctr, perms string, err error) {
	f := strings.Split(v, ":")
	switch len(f) {
	case 3:
		ctr, perms = f[1], f[2]
	case 2:
		if isDevicePerms(f[1]) {
			perms = f[1]
		} else {
			ctr = f[1]
		}
	case 1:
	default:
		return "", "", "", fmt.Errorf("want HOST[:CONTAINER][:PERMS]")
	}
	host = f[0]
	if host == "" || !strings.HasPrefix(host, "/") {
		return "", "", "", fmt.Errorf("HOST must be an absolute path")
	}
	if len(f) == 3 && !isDevicePerms(perms) {
		return "", "", "", fmt.Errorf("PERMS %q: want some of r, w and m", perms)
	}
	return host, ctr, perms, nil
}

// isDevicePerms reports whether s is a non-empty set of r, w and m.
func isDevicePerms(s string) bool {
	if s == "" || len(s) > 3 {
		return false
	}
	for _, c := range s {
		if c != 'r' && c != 'w' && c != 'm' || strings.Count(s, string(c)) > 1 {
			return false
		}
	}
	return true
}
