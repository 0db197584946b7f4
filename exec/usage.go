//go:build !strata_init

package exec

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Usage is what a running container uses, docker stats' figures.
type Usage struct {
	CPUNanos    uint64 // CPU time, user and system, since it started
	MemoryBytes uint64 // memory in use, less inactive file pages where the cgroup tells them
	MemoryLimit uint64 // its cgroup's limit; 0: none
	NetRx       uint64 // bytes through its own network namespace's interfaces but lo (private network); 0 in the host's
	NetTx       uint64
	BlockRead   uint64 // bytes its processes read from and wrote to storage
	BlockWrite  uint64
	Pids        int // its tasks (threads), as pids.current counts them, the tiny init once (countTasks)
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on
// every Linux architecture Go runs on.
const clockTicks = 100

// ReadUsage reads what the running container id uses, as docker stats:
// from its cgroup where it has the controller (v2: cpu.stat, and
// memory.current and memory.max when the memory controller is on; v1:
// the cpuacct and memory hierarchies, which strata makes only for
// limits), else summed over its processes' /proc files (CPU times, the
// resident set, storage bytes); the network from the namespace of pid1
// (its pid 1, as the host sees it; 0: none). tinyInit: pid1 is the tiny
// init (Spec.Init), whose threads count as one task. Only kernel files
// are read, never one of the container's tree, and each defensively: a
// process names itself. The error wraps ErrNotRunning when no container
// has the id.
func ReadUsage(id string, pid1 int, tinyInit bool) (Usage, error) {
	var u Usage
	pids, err := Pids(id)
	if err != nil {
		return u, fmt.Errorf("usage: %w", err)
	}
	dir, v2 := freezerDir(id)
	if dir == "" {
		return u, fmt.Errorf("usage of %s: %w", id, ErrNotRunning)
	}
	u.Pids = countTasks(dir, v2, pid1, tinyInit)
	cpuDone, memDone := false, false
	memDir := dir
	if v2 {
		if v, ok := keyedValue(filepath.Join(dir, "cpu.stat"), "usage_usec"); ok {
			u.CPUNanos, cpuDone = v*1000, true
		}
	} else {
		if d := findCgroup(filepath.Join(cgroupRoot, "cpuacct"), id); d != "" {
			u.CPUNanos, cpuDone = readUint(filepath.Join(d, "cpuacct.usage"))
		}
		memDir = findCgroup(filepath.Join(cgroupRoot, "memory"), id)
	}
	if memDir != "" {
		u.MemoryBytes, u.MemoryLimit, memDone = cgroupMemory(memDir, v2)
	}
	for _, pid := range pids {
		p := filepath.Join("/proc", strconv.Itoa(pid))
		if !cpuDone {
			u.CPUNanos += procCPU(filepath.Join(p, "stat"))
		}
		if !memDone {
			if b, err := os.ReadFile(filepath.Join(p, "statm")); err == nil {
				if f := strings.Fields(string(b)); len(f) > 1 {
					rss, _ := strconv.ParseUint(f[1], 10, 64)
					u.MemoryBytes += rss * uint64(os.Getpagesize())
				}
			}
		}
		if v, ok := keyedValue(filepath.Join(p, "io"), "read_bytes:"); ok {
			u.BlockRead += v
		}
		if v, ok := keyedValue(filepath.Join(p, "io"), "write_bytes:"); ok {
			u.BlockWrite += v
		}
	}
	u.NetRx, u.NetTx = netUsage(pid1)
	return u, nil
}

// countTasks counts the tasks (threads) of the container's cgroup dir,
// as docker stats shows pids.current: on v2 those of its children too,
// where the command runs when a pids limit is on the tiny init's
// threaded child (initPids). The tiny init is a Go program whose runtime
// runs several threads (7 here) and starts more at will: with tinyInit
// the tasks of pid1 count as one, as docker's tini, single-threaded,
// counts; they counted 7, and on v2 with a pids limit only they did,
// the command's in the child not at all.
func countTasks(dir string, v2 bool, pid1 int, tinyInit bool) int {
	var tids []string
	if v2 {
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				tids = append(tids, readFields(filepath.Join(path, "cgroup.threads"))...)
			}
			return nil // a child gone while walked counts nothing
		})
	} else {
		tids = readFields(filepath.Join(dir, "tasks"))
	}
	if !tinyInit || pid1 <= 0 {
		return len(tids)
	}
	initTids, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(pid1), "task"))
	if err != nil {
		return len(tids)
	}
	isInit := map[string]bool{}
	for _, e := range initTids {
		isInit[e.Name()] = true
	}
	n, initSeen := 0, false
	for _, tid := range tids {
		if isInit[tid] {
			initSeen = true
		} else {
			n++
		}
	}
	if initSeen {
		n++
	}
	return n
}

// readFields is the whitespace-separated words of a file; none if it
// cannot be read.
func readFields(file string) []string {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	return strings.Fields(string(b))
}

// cgroupMemory reads usage and limit from a memory cgroup, as docker:
// usage less inactive file pages (cache the kernel takes back first).
func cgroupMemory(dir string, v2 bool) (usage, limit uint64, ok bool) {
	cur, max, inactive := "memory.usage_in_bytes", "memory.limit_in_bytes", "total_inactive_file"
	if v2 {
		cur, max, inactive = "memory.current", "memory.max", "inactive_file"
	}
	usage, ok = readUint(filepath.Join(dir, cur))
	if !ok {
		return 0, 0, false
	}
	if v, ok := keyedValue(filepath.Join(dir, "memory.stat"), inactive); ok && v < usage {
		usage -= v
	}
	// "max" (v2), or v1's page-rounded largest int64: no limit.
	if l, ok := readUint(filepath.Join(dir, max)); ok && l < 1<<62 {
		limit = l
	}
	return usage, limit, true
}

// procCPU returns the user and system time of a process and of its
// children it reaped, from its stat file, in nanoseconds. The name in
// parentheses may hold spaces and parentheses of its own: the fields
// are counted from the last ')'.
func procCPU(file string) uint64 {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 15 {
		return 0
	}
	var ticks uint64
	for _, s := range f[11:15] { // utime stime cutime cstime
		n, _ := strconv.ParseUint(s, 10, 64)
		ticks += n
	}
	return ticks * (1e9 / clockTicks)
}

// netUsage sums the bytes received and sent through every interface but
// lo of pid's network namespace, none when that is the host's.
func netUsage(pid int) (rx, tx uint64) {
	if pid <= 0 {
		return 0, 0
	}
	p := filepath.Join("/proc", strconv.Itoa(pid))
	mine, err1 := os.Readlink("/proc/self/ns/net")
	theirs, err2 := os.Readlink(filepath.Join(p, "ns", "net"))
	if err1 != nil || err2 != nil || mine == theirs {
		return 0, 0
	}
	b, err := os.ReadFile(filepath.Join(p, "net", "dev"))
	if err != nil {
		return 0, 0
	}
	return parseNetDev(b)
}

// parseNetDev sums the bytes of /proc/net/dev's interfaces but lo: two
// title lines (with no ':'), then "  eth0: rx_bytes packets ... tx_bytes
// ...".
func parseNetDev(b []byte) (rx, tx uint64) {
	for _, l := range strings.Split(string(b), "\n") {
		name, rest, ok := strings.Cut(l, ":")
		f := strings.Fields(rest)
		if !ok || strings.TrimSpace(name) == "lo" || len(f) < 9 {
			continue
		}
		r, _ := strconv.ParseUint(f[0], 10, 64)
		t, _ := strconv.ParseUint(f[8], 10, 64)
		rx, tx = rx+r, tx+t
	}
	return rx, tx
}

// readUint reads a file holding one number.
func readUint(file string) (uint64, bool) {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	return n, err == nil
}

// keyedValue reads the number after key in a file of "key value" lines
// (memory.stat, cpu.stat, /proc/PID/io).
func keyedValue(file, key string) (uint64, bool) {
	f, err := os.Open(file)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if ok && k == key {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}
