package exec

import (
	"fmt"
	"slices"
	"strings"

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
		return fmt.Errorf("%s is not in a namespace of the container: want net.*, fs.mqueue.* or one of %s", key, strings.Join(ipcSysctls, ", "))
	}
	if strings.HasPrefix(key, "net.") && network == NetworkHost {
		return fmt.Errorf("%s would set the host's: the run shares its network (--network host)", key)
	}
	return nil
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
			return fmt.Errorf("sysctl %s: %w", key, err)
		}
		_, err = unix.Write(fd, []byte(value))
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("sysctl %s=%s: %w", key, value, err)
		}
	}
	return nil
}
