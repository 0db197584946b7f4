package exec

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// capNames maps capability numbers to their names (without "CAP_").
var capNames = []string{
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL",
	"SETGID", "SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE",
	"NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
	"SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
	"SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME",
	"SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL",
	"SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
	"BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
}

// defaultCaps is Docker's default capability set.
var defaultCaps = []string{
	"CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID",
	"SETUID", "SETFCAP", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL",
	"AUDIT_WRITE",
}

// lastCap is the highest capability the running kernel knows.
var lastCap = sync.OnceValue(func() int {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			return n
		}
	}
	return len(capNames) - 1
})

func capNumber(name string) (int, error) {
	n := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(name)), "CAP_")
	for i, c := range capNames {
		if c == n {
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown capability %q", name)
}

// capSet computes the container's bounding set (as CAP_ names) from the spec.
func capSet(privileged bool, add, drop []string) ([]string, error) {
	set := map[int]bool{}
	// "All" is every capability strata itself holds: the host may run it
	// with a reduced bounding set (here root lacks CAP_SYS_RESOURCE).
	have := ownPermitted()
	all := func() {
		for i := 0; i <= lastCap() && i < len(capNames); i++ {
			if have[i] {
				set[i] = true
			}
		}
	}
	// As docker's: with ALL in add, every capability but those drop
	// names; otherwise the base set, less drop (ALL: all of it), plus add.
	addAll := slices.ContainsFunc(add, isAll)
	if privileged || addAll {
		all()
	} else {
		for _, c := range defaultCaps {
			n, _ := capNumber(c)
			set[n] = true
		}
	}
	for _, c := range drop {
		if isAll(c) {
			if !addAll {
				clear(set)
			}
			continue
		}
		n, err := capNumber(c)
		if err != nil {
			return nil, fmt.Errorf("cap-drop: %w", err)
		}
		delete(set, n)
	}
	for _, c := range add {
		if isAll(c) {
			continue
		}
		n, err := capNumber(c)
		if err != nil {
			return nil, fmt.Errorf("cap-add: %w", err)
		}
		if !addAll {
			set[n] = true
		}
	}
	var names []string
	for i, c := range capNames {
		if set[i] {
			names = append(names, "CAP_"+c)
		}
	}
	return names, nil
}

func isAll(name string) bool { return strings.EqualFold(strings.TrimSpace(name), "ALL") }

// syscall6 runs a system call on the calling thread only, or, for a
// process that keeps running (the tiny init), on all of its threads.
type syscall6 func(trap, a1, a2, a3, a4, a5, a6 uintptr) (r1, r2 uintptr, err syscall.Errno)

// A binary linked with cgo cannot change all threads (ENOTSUP): then only
// the calling thread (the one that forks the command) is changed, and the
// seccomp filter, installed with TSYNC, still covers every thread.
func capSyscall(allThreads bool) syscall6 {
	if allThreads && allThreadsWork() {
		return syscall.AllThreadsSyscall6
	}
	return syscall.RawSyscall6
}

var allThreadsWork = sync.OnceValue(func() bool {
	_, _, e := syscall.AllThreadsSyscall(syscall.SYS_GETPID, 0, 0, 0)
	return e != syscall.ENOTSUP
})

// dropBounding removes every capability not in keep from the bounding set
// and clears the ambient set. It asks the kernel which capabilities exist
// (the first it calls invalid ends them), never /proc: a process joining a
// container runs in the container's mount namespace, where a container
// that may mount could lay a file reading "0" over
// /proc/sys/kernel/cap_last_cap and keep every capability strata holds
// in the bounding set of what it executes.
func dropBounding(keep map[int]bool, sys syscall6) error {
	for c := 0; c < 64; c++ {
		if keep[c] {
			continue
		}
		_, _, e := sys(unix.SYS_PRCTL, unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0, 0)
		if e == unix.EINVAL {
			break // past the kernel's last capability
		}
		if e != 0 {
			return fmt.Errorf("drop capability %d from bounding set: %w", c, e)
		}
	}
	if _, _, e := sys(unix.SYS_PRCTL, unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0, 0); e != 0 && e != unix.EINVAL {
		return fmt.Errorf("clear ambient capabilities: %w", e)
	}
	return nil
}

// setCaps sets the effective and permitted sets to keep and clears the
// inheritable set, so nothing leaks through execve.
func setCaps(keep map[int]bool, sys syscall6) error {
	var data [2]unix.CapUserData
	for c := range keep {
		data[c/32].Effective |= 1 << (uint(c) % 32)
		data[c/32].Permitted |= 1 << (uint(c) % 32)
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	if _, _, e := sys(unix.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0, 0, 0, 0); e != 0 {
		return fmt.Errorf("capset: %w", e)
	}
	return nil
}

// ownPermitted returns the calling thread's permitted capabilities.
func ownPermitted() map[int]bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	m := map[int]bool{}
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return m
	}
	for c := 0; c < 64; c++ {
		if data[c/32].Permitted&(1<<(uint(c)%32)) != 0 {
			m[c] = true
		}
	}
	return m
}

func capMap(names []string) map[int]bool {
	m := map[int]bool{}
	for _, n := range names {
		if c, err := capNumber(n); err == nil {
			m[c] = true
		}
	}
	return m
}
