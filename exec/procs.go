//go:build !strata_init

package exec

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Pids returns the processes in the cgroup of the running container id,
// as docker top lists them: its pid 1, what that started, and what Join
// runs there, as host pids. It reads only the kernel's cgroup.procs,
// never a file of the container's tree. The error wraps ErrNotRunning
// when no container has the id, or it has no cgroup (rootless, without
// limits).
func Pids(id string) ([]int, error) {
	if err := checkID(id); err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	dir, _ := freezerDir(id)
	if dir == "" {
		return nil, fmt.Errorf("list processes of %s: %w", id, ErrNotRunning)
	}
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if os.IsNotExist(err) {
		return nil, fmt.Errorf("list processes of %s: %w", id, ErrNotRunning)
	}
	if err != nil {
		return nil, fmt.Errorf("list processes of %s: %w", id, err)
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		pid, err := strconv.Atoi(f)
		if err != nil || pid <= 0 {
			return nil, fmt.Errorf("list processes of %s: bad cgroup.procs line %q", id, f)
		}
		pids = append(pids, pid)
	}
	if len(pids) == 0 {
		return nil, fmt.Errorf("list processes of %s: %w", id, ErrNotRunning)
	}
	return pids, nil
}

// ParentOf returns pid's parent, or -1.
func ParentOf(pid int) int {
	_, ppid := procStat(pid)
	return ppid
}

// LiveParentOf returns pid's parent, or -1, also when pid has ended and
// is a zombie its parent has not reaped yet: no process to join.
func LiveParentOf(pid int) int {
	state, ppid := procStat(pid)
	if state == 'Z' || state == 'X' {
		return -1
	}
	return ppid
}

// procStat returns pid's state and parent from /proc/PID/stat, or 0, -1.
func procStat(pid int) (state byte, ppid int) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, -1
	}
	// pid (comm) state ppid ...: comm may hold spaces and parentheses.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 2 || len(f[0]) != 1 {
		return 0, -1
	}
	ppid, err = strconv.Atoi(f[1])
	if err != nil {
		return 0, -1
	}
	return f[0][0], ppid
}

// cgroupProcsOf lists the cgroup.procs files of every cgroup pid is in.
func cgroupProcsOf(pid int) ([]string, error) {
	cgs, err := readProcCgroups("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return nil, fmt.Errorf("container pid %d: %w", pid, err)
	}
	var out []string
	for _, c := range cgs {
		if c.path == "/" {
			continue
		}
		var dir string
		switch {
		case c.controllers == "" && c.id == "0":
			dir = cgroupV2Mount()
		case strings.HasPrefix(c.controllers, "name="):
			continue
		default:
			dir = "/sys/fs/cgroup/" + strings.Split(c.controllers, ",")[0]
		}
		if dir == "" {
			continue
		}
		if _, err := os.Stat(dir + c.path); err == nil {
			out = append(out, dir+c.path+"/cgroup.procs")
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("container pid %d: no cgroup of its own", pid)
	}
	return out, nil
}

func cgroupV2Mount() string {
	for _, d := range []string{"/sys/fs/cgroup/unified", "/sys/fs/cgroup"} {
		if _, err := os.Stat(d + "/cgroup.controllers"); err == nil {
			return d
		}
	}
	return ""
}
