package exec

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

// Sysctls are set in the container's own namespaces (docker's --sysctl):
// those of its IPC namespace, and net.* of its network namespace. Any
// other would set the host's.
var (
	ipcSysctls = []string{"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
		"kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"}
	nsSysctlPrefixes = []string{"net.", "fs.mqueue."}
)

// CheckSysctl checks a KEY=VALUE of Spec.Sysctls: KEY one the container
// has a namespace of (as docker's ValidateSysctl), net.* only with a
// network namespace of its own (network is Spec.Network).
func CheckSysctl(kv, network string) error {
	key, _, ok := strings.Cut(kv, "=")
	if !ok || !validSysctlKey(key) {
		return fmt.Errorf("want KEY=VALUE, KEY dot-separated names")
	}
	if !slices.Contains(ipcSysctls, key) && !slices.ContainsFunc(nsSysctlPrefixes, func(p string) bool { return strings.HasPrefix(key, p) }) {
		return fmt.Errorf("%s is not in a namespace of the container: want net.*, fs.mqueue.* or one of %s", shortText(key), strings.Join(ipcSysctls, ", "))
	}
	if strings.HasPrefix(key, "net.") && network == NetworkHost {
		return fmt.Errorf("%s would set the host's: the run shares its network (--network host)", shortText(key))
	}
	return nil
}

// maxShown is how much of a sysctl's key or value an error repeats: a
// value may be as long as a page of /proc/sys, an error is one line.
const maxShown = 64

// ShortSysctl is KEY=VALUE as an error repeats it: a KEY or VALUE
// longer than maxShown bytes cut (shortText).
func ShortSysctl(kv string) string {
	key, value, ok := strings.Cut(kv, "=")
	if !ok {
		return shortText(kv)
	}
	return shortText(key) + "=" + shortText(value)
}

// shortText is s cut after maxShown bytes (on a character's start),
// with "..." and its length.
func shortText(s string) string {
	if len(s) <= maxShown {
		return s
	}
	n := maxShown
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return fmt.Sprintf("%s... (%d bytes)", s[:n], len(s))
}

// validSysctlKey: names of letters, digits, '_' and '-', joined by dots.
func validSysctlKey(key string) bool {
	for _, name := range strings.Split(key, ".") {
		if name == "" || strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != "" {
			return false
		}
	}
	return true
}

// setSysctls writes each KEY=VALUE to /proc/sys, on the calling thread,
// which is in the container's namespaces with its /proc mounted and not
// yet made read-only.
func setSysctls(kvs []string) error {
	for _, kv := range kvs {
		key, value, _ := strings.Cut(kv, "=")
		if !validSysctlKey(key) { // checked by the caller; a path never leaves /proc/sys
			return fmt.Errorf("sysctl %q: bad key", key)
		}
		p := "/proc/sys/" + strings.ReplaceAll(key, ".", "/")
		fd, err := unix.Open(p, unix.O_WRONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
		if err != nil {
			return fmt.Errorf("sysctl %s: %w", shortText(key), err)
		}
		_, err = unix.Write(fd, []byte(value))
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("sysctl %s: %w", ShortSysctl(kv), err)
		}
	}
	return nil
}
