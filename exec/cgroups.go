package exec

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// cgroupRoot is where controllers are mounted (v1: one directory per
// controller; v2: the unified hierarchy itself).
var cgroupRoot = "/sys/fs/cgroup"

const cgroupPrefix = "strata-"

// cgroup is one container's set of cgroup directories.
type cgroup struct {
	dirs        []string
	v2          bool
	controllers []string // v1: the hierarchies the cgroup has a directory in
	// v2, Init and a PidsLimit: the threaded child that holds pids.max,
	// where the tiny init's main thread and the command go (initPids).
	pidsChild string
}

// cgroupV2 reports whether /sys/fs/cgroup is the unified hierarchy.
func cgroupV2() bool {
	var st unix.Statfs_t
	return unix.Statfs(cgroupRoot, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
}

// newCgroup creates the container's cgroup: strata-<pid>-<id> in each v1
// hierarchy it needs (the limits' controllers, freezer, and devices unless
// privileged) or once in the v2 hierarchy, with the limits and the device
// rules (devices; none: no device cgroup). The name starts with the
// owner's pid so that sweepCgroups can tell leftovers of dead runs from
// live ones. tinyInit: the container's pid 1 is the tiny init
// (Spec.Init), whose threads PidsLimit must count once.
func newCgroup(name string, r Resources, devices []devRule, tinyInit bool) (cg *cgroup, err error) {
	cg = &cgroup{}
	defer func() {
		if err != nil {
			cg.remove()
		}
	}()
	if cgroupV2() {
		dir := filepath.Join(cgroupRoot, name)
		if r.any() {
			if err := enableV2Controllers(r); err != nil {
				return cg, err
			}
		}
		if err := os.Mkdir(dir, 0o755); err != nil {
			return cg, fmt.Errorf("create cgroup: %w", err)
		}
		cg.dirs, cg.v2 = append(cg.dirs, dir), true
		limits := v2Limits(r)
		if tinyInit && r.PidsLimit > 0 {
			if cg.pidsChild, err = initPids(dir, r.PidsLimit); err != nil {
				return cg, err
			}
			limits = slices.DeleteFunc(limits, func(l limit) bool { return l.file == "pids.max" })
		}
		if err := writeLimits(dir, limits); err != nil {
			return cg, err
		}
		if devices != nil {
			return cg, attachDeviceProgram(dir, devices)
		}
		return cg, nil
	}
	limits := v1Limits(r)
	if r.cpuset() {
		if limits["cpuset"], err = v1Cpuset(r); err != nil {
			return cg, err
		}
	}
	// Only the limits' controllers are mounted inside the container.
	for ctrl := range limits {
		cg.controllers = append(cg.controllers, ctrl)
	}
	ctrls := append([]string{"freezer"}, cg.controllers...)
	if devices != nil {
		ctrls = append(ctrls, "devices")
	}
	for _, ctrl := range ctrls {
		dir := filepath.Join(cgroupRoot, ctrl, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			return cg, fmt.Errorf("create cgroup: %w", err)
		}
		cg.dirs = append(cg.dirs, dir)
		if ctrl == "devices" {
			err = writeV1Devices(dir, devices)
		} else {
			err = writeLimits(dir, limits[ctrl])
		}
		if err != nil {
			return cg, err
		}
	}
	return cg, nil
}

// pidsChildName is the threaded child of a v2 cgroup that holds its
// pids.max when the container's pid 1 is the tiny init (initPids).
const pidsChildName = "init"

// initPids makes the threaded child of the v2 cgroup dir that holds
// pids.max, for a container whose pid 1 is the tiny init. A v2 cgroup
// holds all of a process's threads, and the init's Go runtime runs
// several (7 here) and starts more as it needs them: in a cgroup with
// pids.max they left the command that many tasks fewer, and a thread
// the runtime could not start would crash the init. A threaded child
// may hold some threads of a process (cgroup-v2.rst, "Threads"): the
// init, born in dir, moves its main thread there, which forks the
// command and never starts a thread itself (see pidsDir), so PidsLimit
// counts the init once, as docker's tini, and as on v1.
func initPids(dir string, pidsLimit int64) (string, error) {
	if err := os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte("+pids"), 0); err != nil {
		return "", fmt.Errorf("create cgroup: enable pids below %s: %w", dir, err)
	}
	child := filepath.Join(dir, pidsChildName)
	if err := os.Mkdir(child, 0o755); err != nil {
		return "", fmt.Errorf("create cgroup: %w", err)
	}
	if err := os.WriteFile(filepath.Join(child, "cgroup.type"), []byte("threaded"), 0); err != nil {
		return child, fmt.Errorf("create cgroup: %s threaded: %w", child, err)
	}
	return child, writeLimits(child, []limit{{"pids.max", strconv.FormatInt(pidsLimit, 10)}})
}

// v1Hierarchies are the v1 controllers strata creates cgroups in.
var v1Hierarchies = []string{"memory", "cpu", "cpuset", "pids", "freezer", "devices"}

type limit struct{ file, value string }

func v1Limits(r Resources) map[string][]limit {
	m := map[string][]limit{}
	if r.MemoryBytes > 0 {
		v, sw := strconv.FormatInt(r.MemoryBytes, 10), strconv.FormatInt(r.MemoryBytes, 10)
		if r.MemorySwap != 0 {
			sw = strconv.FormatInt(r.MemorySwap, 10) // -1: no limit, as the kernel takes it
		}
		m["memory"] = []limit{{"memory.limit_in_bytes", v}, {"memory.memsw.limit_in_bytes", sw}}
	}
	if r.CPUs > 0 {
		m["cpu"] = []limit{{"cpu.cfs_period_us", "100000"}, {"cpu.cfs_quota_us", strconv.Itoa(int(r.CPUs * 100000))}}
	}
	if r.PidsLimit > 0 {
		m["pids"] = []limit{{"pids.max", strconv.FormatInt(r.PidsLimit, 10)}}
	}
	return m
}

func v2Limits(r Resources) []limit {
	var l []limit
	if r.MemoryBytes > 0 {
		l = append(l, limit{"memory.max", strconv.FormatInt(r.MemoryBytes, 10)}, limit{"memory.swap.max", v2Swap(r)})
	}
	if r.CpusetCpus != "" {
		l = append(l, limit{"cpuset.cpus", r.CpusetCpus})
	}
	if r.CpusetMems != "" {
		l = append(l, limit{"cpuset.mems", r.CpusetMems})
	}
	if r.CPUs > 0 {
		l = append(l, limit{"cpu.max", strconv.Itoa(int(r.CPUs*100000)) + " 100000"})
	}
	if r.PidsLimit > 0 {
		l = append(l, limit{"pids.max", strconv.FormatInt(r.PidsLimit, 10)})
	}
	return l
}

// v2Swap is memory.swap.max: v2 limits swap alone, where docker's
// --memory-swap (and v1's memsw) is memory and swap together.
func v2Swap(r Resources) string {
	switch {
	case r.MemorySwap < 0:
		return "max"
	case r.MemorySwap > r.MemoryBytes:
		return strconv.FormatInt(r.MemorySwap-r.MemoryBytes, 10)
	}
	return "0"
}

// enableV2Controllers turns on the controllers the limits need for children
// of the root cgroup.
func enableV2Controllers(r Resources) error {
	var want []string
	if r.MemoryBytes > 0 {
		want = append(want, "+memory")
	}
	if r.CPUs > 0 {
		want = append(want, "+cpu")
	}
	if r.PidsLimit > 0 {
		want = append(want, "+pids")
	}
	if r.cpuset() {
		want = append(want, "+cpuset")
	}
	f := filepath.Join(cgroupRoot, "cgroup.subtree_control")
	if err := os.WriteFile(f, []byte(strings.Join(want, " ")), 0); err != nil {
		return fmt.Errorf("enable cgroup controllers %v: %w", want, err)
	}
	return nil
}

func writeLimits(dir string, limits []limit) error {
	for _, l := range limits {
		err := os.WriteFile(filepath.Join(dir, l.file), []byte(l.value), 0)
		if err != nil && l.file == "memory.memsw.limit_in_bytes" && errors.Is(err, os.ErrNotExist) {
			continue // no swap accounting: nothing to limit
		}
		if err != nil {
			return fmt.Errorf("cgroup limit %s=%s: %w", l.file, l.value, err)
		}
	}
	return nil
}

// tasksFiles are the v1 "tasks" files through which the init moves its own
// thread into the cgroup. Writing "0" there moves only the calling thread,
// which the kernel does without the cgroup threadgroup rwsem; moving a
// whole process (cgroup.procs) takes that rwsem for writing, which waits
// for an RCU grace period: 8 to 10 ms in one start of ten on this
// machine. After execve the command is that thread alone.
func (cg *cgroup) tasksFiles() []string {
	var files []string
	for _, d := range cg.dirs {
		files = append(files, filepath.Join(d, "tasks"))
	}
	return files
}

// joinTasks moves the calling thread into the cgroups (see tasksFiles).
// Plain syscalls: os.WriteFile would register each file with the Go
// runtime's poller, which the init would then set up for nothing.
func joinTasks(files []string) error {
	for _, f := range files {
		fd, err := unix.Open(f, unix.O_WRONLY|unix.O_CLOEXEC, 0)
		if err == nil {
			_, err = unix.Write(fd, []byte("0"))
			unix.Close(fd)
		}
		if err != nil {
			return fmt.Errorf("join cgroup: %s: %w", f, err)
		}
	}
	return nil
}

// writeProcs moves pid, all its threads, into cgroup directory d. It
// takes the cgroup threadgroup rwsem for writing, which waits for an RCU
// grace period (see tasksFiles).
func writeProcs(d string, pid int) error {
	if err := os.WriteFile(filepath.Join(d, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
		return fmt.Errorf("join cgroup %s: %w", d, err)
	}
	return nil
}

// remove kills what is left in the cgroup and deletes its directories. A
// cgroup can be removed only once its last task is gone, which can trail
// the exit of pid 1 by a moment: retry for up to timeout.
func (cg *cgroup) remove() error {
	return removeCgroupDirs(cg.dirs, 5*time.Second)
}

func removeCgroupDirs(dirs []string, timeout time.Duration) error {
	var firstErr error
	deadline := time.Now().Add(timeout)
	for _, d := range dirs {
		for {
			unix.Rmdir(filepath.Join(d, pidsChildName)) // first, if it has one (initPids)
			err := unix.Rmdir(d)
			if err == nil || err == unix.ENOENT {
				break
			}
			if err != unix.EBUSY || time.Now().After(deadline) {
				if firstErr == nil {
					firstErr = fmt.Errorf("remove cgroup %s: %w", d, err)
				}
				break
			}
			killCgroup(d)
			time.Sleep(5 * time.Millisecond)
		}
	}
	return firstErr
}

func killCgroup(dir string) {
	b, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	for _, f := range strings.Fields(string(b)) {
		// Never pid 1 or strata itself: only a bug could have put them here.
		if pid, err := strconv.Atoi(f); err == nil && pid > 1 && pid != os.Getpid() {
			unix.Kill(pid, unix.SIGKILL)
		}
	}
	// A paused container's tasks die only once thawed (v1; v2's
	// freezer lets SIGKILL through).
	if _, err := os.Stat(filepath.Join(dir, "freezer.state")); err == nil {
		writeFreezer(dir, false, false)
	}
}

// writeFreezer freezes or thaws the cgroup at dir.
func writeFreezer(dir string, v2, frozen bool) error {
	file, value := "freezer.state", "THAWED"
	if frozen {
		value = "FROZEN"
	}
	if v2 {
		file, value = "cgroup.freeze", "0"
		if frozen {
			value = "1"
		}
	}
	return os.WriteFile(filepath.Join(dir, file), []byte(value), 0)
}

// sweepCgroups removes cgroups left by strata processes that died without
// cleaning up (SIGKILL of both strata and its watchdog, a machine crash).
func sweepCgroups() {
	var parents []string
	if cgroupV2() {
		parents = []string{cgroupRoot}
	} else {
		for _, c := range v1Hierarchies {
			parents = append(parents, filepath.Join(cgroupRoot, c))
		}
	}
	for _, p := range parents {
		ents, err := os.ReadDir(p)
		if err != nil {
			continue
		}
		for _, e := range ents {
			if !e.IsDir() || !strings.HasPrefix(e.Name(), cgroupPrefix) || ownerAlive(e.Name(), cgroupPrefix) {
				continue
			}
			dir := filepath.Join(p, e.Name())
			if err := removeCgroupDirs([]string{dir}, 100*time.Millisecond); err != nil {
				slog.Debug("sweep leftover cgroup", "dir", dir, "err", err)
			}
		}
	}
}

// ownerAlive parses "<prefix><pid>-..." and reports whether pid still runs.
func ownerAlive(name, prefix string) bool {
	s, _, _ := strings.Cut(strings.TrimPrefix(name, prefix), "-")
	pid, err := strconv.Atoi(s)
	if err != nil || pid <= 0 {
		return true // not ours to judge
	}
	return unix.Kill(pid, 0) != unix.ESRCH
}

// joinCgroup tells the init which cgroup it is in, or joins, and moves the
// tiny init there.
func joinCgroup(cfg *initConfig, cg *cgroup, pid int) error {
	if cg == nil {
		return nil
	}
	cfg.CgroupV1, cfg.CgroupV2 = cg.controllers, cg.v2
	switch {
	case cg.v2 && cg.pidsChild != "":
		// Born in it (CLONE_INTO_CGROUP); the main thread moves itself
		// into the child that holds pids.max (initPids).
		cfg.JoinTasks = []string{filepath.Join(cg.pidsChild, "cgroup.threads")}
	case cg.v2: // born in it (CLONE_INTO_CGROUP)
	case !cfg.Init:
		cfg.JoinTasks = cg.tasksFiles()
	default:
		// The tiny init keeps threads that a self-move of one thread
		// would leave behind: move the whole process, but into the
		// pids cgroup only its main thread, which forks the command
		// (see pidsDir).
		pids := cg.pidsDir()
		for _, d := range cg.dirs {
			if d == pids {
				cfg.JoinTasks = []string{filepath.Join(d, "tasks")}
				continue
			}
			if err := writeProcs(d, pid); err != nil {
				return runtimeErr("%w", err)
			}
		}
	}
	return nil
}

// pidsDir is the cgroup's v1 pids directory, "" without one. The Go
// runtime of the tiny init (Init) runs several threads and starts more
// as it needs them; in the pids cgroup they would count against the
// limit, leave the command a few tasks fewer than asked, and crash the
// init when the command has taken the rest. Only the init's main thread
// joins it: locked to the init's goroutine, it never starts a thread
// itself (the Go runtime starts them from its template thread, outside),
// so the init counts as one task, as docker's tini does.
func (cg *cgroup) pidsDir() string {
	for _, d := range cg.dirs {
		if !cg.v2 && filepath.Base(filepath.Dir(d)) == "pids" {
			return d
		}
	}
	return ""
}

// raisePidsMax lets one more task than limit into the v1 pids cgroup
// whose tasks file is among tasks, and returns the function that sets
// limit back and closes its file (also on a thread that has since
// pivoted into the container); nothing without a pids cgroup or a limit.
// A direct start forks the command from a thread in the container's
// cgroups: the thread counts until it leaves, before the command runs.
func raisePidsMax(tasks []string, limit int64) (restore func() error, err error) {
	restore = func() error { return nil }
	if limit <= 0 {
		return restore, nil
	}
	for _, t := range tasks {
		dir := filepath.Dir(t)
		if filepath.Base(filepath.Dir(dir)) != "pids" {
			continue
		}
		fd, err := unix.Open(filepath.Join(dir, "pids.max"), unix.O_WRONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return restore, fmt.Errorf("cgroup limit pids.max: %w", err)
		}
		set := func(n int64) error {
			if _, err := unix.Pwrite(fd, []byte(strconv.FormatInt(n, 10)), 0); err != nil {
				return fmt.Errorf("cgroup limit pids.max=%d: %w", n, err)
			}
			return nil
		}
		// At MaxPidsLimit one more is more than the kernel takes, and
		// no more tasks than that can exist anyway.
		if err := set(min(limit+1, MaxPidsLimit)); err != nil {
			unix.Close(fd)
			return restore, err
		}
		return sync.OnceValue(func() error {
			defer unix.Close(fd)
			return set(limit)
		}), nil
	}
	return restore, nil
}

// procCgroup is one line of /proc/<pid>/cgroup.
type procCgroup struct {
	id          string // the hierarchy's id: "0" for v2
	controllers string // v1: its controllers, comma-separated, or name=NAME; v2: ""
	path        string // the cgroup, within the hierarchy
}

// readProcCgroups reads a /proc/<pid>/cgroup file.
func readProcCgroups(file string) ([]procCgroup, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var out []procCgroup
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.SplitN(line, ":", 3); len(f) == 3 {
			out = append(out, procCgroup{id: f[0], controllers: f[1], path: f[2]})
		}
	}
	return out, nil
}
