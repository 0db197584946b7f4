package exec

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	osexec "os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ourCgroups lists the cgroup directories of runs by pid.
func ourCgroups(pid int) []string {
	var dirs []string
	pattern := cgroupPrefix + strconv.Itoa(pid) + "-*"
	parents := []string{cgroupRoot}
	for _, c := range v1Hierarchies {
		parents = append(parents, filepath.Join(cgroupRoot, c))
	}
	for _, p := range parents {
		m, _ := filepath.Glob(filepath.Join(p, pattern))
		dirs = append(dirs, m...)
	}
	return dirs
}

func TestMemoryLimit(t *testing.T) {
	// awk doubles a string until the kernel's OOM killer stops it at 32 MiB.
	r := run(t, busybox(t), func(s *Spec) { s.Resources.MemoryBytes = 32 << 20 },
		"awk", `BEGIN { s = "xxxxxxxxxxxxxxxx"; while (1) s = s s }`)
	if r.err != nil || r.code != 128+int(syscall.SIGKILL) {
		t.Fatalf("code %d err %v stderr %q, want 137 (OOM kill)", r.code, r.err, r.stderr)
	}
	if d := ourCgroups(os.Getpid()); len(d) != 0 {
		t.Fatalf("cgroups left: %v", d)
	}
}

func TestPidsLimit(t *testing.T) {
	// Start 64 sleepers in the background; at most 16 tasks may exist.
	out := mustSh(t, busybox(t), func(s *Spec) { s.Resources.PidsLimit = 16 }, `
(for i in $(seq 64); do sleep 30 & done) 2>/dev/null
set -- /proc/[0-9]*; echo $#
`)
	procs, err := strconv.Atoi(strings.TrimSpace(out))
	// The fork loop must have hit the limit, not stopped short of it.
	if err != nil || procs > 16 || procs < 12 {
		t.Fatalf("tasks in container: %q, want between 12 and 16", out)
	}
}

// TestInitPidsLimit: with Init, PidsLimit counts the tiny init once, as
// docker's tini, on cgroup v1 and v2: its Go runtime's other threads do
// not take the command's tasks, and it outlives a command that took
// them all. sh, a subshell while it forks and the sleepers share the
// 15 tasks left: 15 processes with pid 1 once the subshell is gone.
func TestInitPidsLimit(t *testing.T) {
	out := mustSh(t, busybox(t), func(s *Spec) { s.Init = true; s.Resources.PidsLimit = 16 }, `
(for i in $(seq 64); do sleep 30 & done) 2>/dev/null
set -- /proc/[0-9]*; echo $#
`)
	procs, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil || procs > 16 || procs < 14 {
		t.Fatalf("processes in container: %q, want 14 to 16", out)
	}
	if !cgroupV2() {
		return
	}
	// v2: the container's cgroup is its root, with its memory.max; the
	// limit is on the child its command runs in (initPids).
	out = mustSh(t, busybox(t), func(s *Spec) { s.Init = true; s.Resources = Resources{MemoryBytes: 48 << 20, PidsLimit: 16} },
		`cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/init/pids.max /sys/fs/cgroup/init/cgroup.type; cut -d: -f3 /proc/self/cgroup`)
	if out != "50331648\n16\nthreaded\n/init\n" {
		t.Fatalf("the container's cgroup as it sees it: %q", out)
	}
	if d := ourCgroups(os.Getpid()); len(d) != 0 {
		t.Fatalf("cgroups left after exit: %v", d)
	}
}

func TestCgroupLimitsAndRemoval(t *testing.T) {
	res := Resources{MemoryBytes: 64 << 20, CPUs: 0.5, PidsLimit: 50}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan result, 1)
	go func() {
		code, err := Run(ctx, Spec{Root: busybox(t), Args: []string{"sh", "-c", "echo up; exec sleep 1000"}, Stdout: pw, Resources: res})
		pw.Close()
		done <- result{code: code, err: err}
	}()
	bufio.NewReader(pr).ReadString('\n')
	dirs := ourCgroups(os.Getpid())
	want := map[string]string{"memory.limit_in_bytes": "67108864", "cpu.cfs_quota_us": "50000", "pids.max": "50"}
	if cgroupV2() {
		want = map[string]string{"memory.max": "67108864", "cpu.max": "50000 100000", "pids.max": "50"}
	}
	found := 0
	for _, d := range dirs {
		for f, v := range want {
			b, err := os.ReadFile(filepath.Join(d, f))
			if err != nil {
				continue
			}
			found++
			if strings.TrimSpace(string(b)) != v {
				t.Errorf("%s/%s = %q, want %q", d, f, b, v)
			}
		}
		procs, _ := os.ReadFile(filepath.Join(d, "cgroup.procs"))
		if len(strings.Fields(string(procs))) != 1 {
			t.Errorf("%s holds %q, want the container's pid 1", d, procs)
		}
	}
	if found != len(want) {
		t.Errorf("found %d of %d limits in %v", found, len(want), dirs)
	}
	cancel()
	go io.Copy(io.Discard, pr)
	<-done
	if d := ourCgroups(os.Getpid()); len(d) != 0 {
		t.Fatalf("cgroups left after exit: %v", d)
	}
}

// TestCgroupRemovedWhenStrataKilled runs a container from a child process
// (this test binary in runner mode), SIGKILLs that process and expects the
// container gone and its cgroups removed by the watchdog.
func TestCgroupRemovedWhenStrataKilled(t *testing.T) {
	for _, limits := range []string{"limits", "none", "init"} {
		t.Run(limits, func(t *testing.T) { testCgroupRemovedWhenStrataKilled(t, limits) })
	}
}

func testCgroupRemovedWhenStrataKilled(t *testing.T, limits string) {
	self, _ := os.Executable()
	cmd := osexec.Command(self)
	cmd.Env = append(os.Environ(), runnerEnv+"="+busybox(t), runnerEnv+"_LIMITS="+limits)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		for _, d := range ourCgroups(cmd.Process.Pid) {
			removeCgroupDirs([]string{d}, time.Second)
		}
	})
	line, _ := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "up" {
		t.Fatalf("runner said %q", line)
	}
	dirs := ourCgroups(cmd.Process.Pid)
	if want := 2; !cgroupV2() && len(dirs) < want || len(dirs) == 0 {
		t.Fatalf("cgroups while the container runs: %v (v1: at least freezer and devices)", dirs)
	}
	procs, _ := os.ReadFile(filepath.Join(dirs[0], "cgroup.procs"))
	cpid, _ := strconv.Atoi(strings.Fields(string(procs))[0])
	// The watchdog starts in the background once the container runs.
	for deadline := time.Now().Add(30 * time.Second); !watchdogFor(dirs[0]); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no watchdog for %s", dirs[0])
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	// Poll (no timing assertion: the deadline is only a hang guard).
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if len(ourCgroups(cmd.Process.Pid)) == 0 && syscall.Kill(cpid, 0) == syscall.ESRCH {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("after SIGKILL of strata: cgroups %v, container pid %d alive=%v",
		ourCgroups(cmd.Process.Pid), cpid, syscall.Kill(cpid, 0) == nil)
}

const runnerEnv = "STRATA_EXEC_TEST_RUNNER"

// runnerMain runs a long container with limits when this binary is started
// as the runner of TestCgroupRemovedWhenStrataKilled.
func runnerMain() {
	root := os.Getenv(runnerEnv)
	if root == "" {
		return
	}
	res := Resources{PidsLimit: 10, MemoryBytes: 64 << 20}
	if os.Getenv(runnerEnv+"_LIMITS") == "none" {
		res = Resources{}
	}
	// init: the tiny init's cgroup has a child on v2 (initPids).
	tinyInit := os.Getenv(runnerEnv+"_LIMITS") == "init"
	code, _ := Run(context.Background(), Spec{Root: root, Args: []string{"sh", "-c", "echo up; exec sleep 1000"},
		Stdout: os.Stdout, Resources: res, Init: tinyInit})
	os.Exit(code)
}

func TestCgroupLimitFiles(t *testing.T) {
	r := Resources{MemoryBytes: 1 << 30, CPUs: 1.5, PidsLimit: 64}
	v1 := v1Limits(r)
	want1 := map[string][]limit{
		"memory": {{"memory.limit_in_bytes", "1073741824"}, {"memory.memsw.limit_in_bytes", "1073741824"}},
		"cpu":    {{"cpu.cfs_period_us", "100000"}, {"cpu.cfs_quota_us", "150000"}},
		"pids":   {{"pids.max", "64"}},
	}
	if fmt.Sprint(v1) != fmt.Sprint(want1) {
		t.Errorf("v1: %v, want %v", v1, want1)
	}
	want2 := []limit{{"memory.max", "1073741824"}, {"memory.swap.max", "0"}, {"cpu.max", "150000 100000"}, {"pids.max", "64"}}
	if v2 := v2Limits(r); fmt.Sprint(v2) != fmt.Sprint(want2) {
		t.Errorf("v2: %v, want %v", v2, want2)
	}
	if len(v1Limits(Resources{PidsLimit: 5})) != 1 {
		t.Error("v1: a pids limit alone must create only the pids cgroup")
	}
}

// TestCgroupVisibleInside: a container with limits sees its own cgroup,
// read-only, as the root of /sys/fs/cgroup.
func TestCgroupVisibleInside(t *testing.T) {
	script := `cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max
grep -E ':(memory|pids):' /proc/self/cgroup | cut -d: -f3
echo 1 > /sys/fs/cgroup/pids/pids.max 2>/dev/null || echo ro`
	if cgroupV2() {
		script = `cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max; cat /proc/self/cgroup | cut -d: -f3; cat /proc/self/cgroup | cut -d: -f3
echo 1 > /sys/fs/cgroup/pids.max 2>/dev/null || echo ro`
	}
	out := mustSh(t, busybox(t), func(s *Spec) { s.Resources = Resources{MemoryBytes: 48 << 20, PidsLimit: 33} }, script)
	if out != "50331648\n33\n/\n/\nro\n" {
		t.Fatalf("got %q", out)
	}
	// Without limits the container still has a cgroup (devices, freezer):
	// v2 shows it, v1 mounts only the controllers of limits, so none.
	out = mustSh(t, busybox(t), nil, "ls /sys/fs/cgroup | wc -l")
	if n, _ := strconv.Atoi(strings.TrimSpace(out)); cgroupV2() != (n > 0) {
		t.Fatalf("without limits /sys/fs/cgroup holds %q entries (v2 %v)", out, cgroupV2())
	}
}

// watchdogFor reports whether a watchdog process names cgroup dir.
func watchdogFor(dir string) bool {
	m, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range m {
		b, _ := os.ReadFile(f)
		args := strings.Split(string(b), "\x00")
		if args[0] == "strata-watchdog" && slices.Contains(args, dir) {
			return true
		}
	}
	return false
}
