package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestGCRemovesKilledRunLeftovers SIGKILLs "strata run --rev" while its
// container runs. The run's watchdog detaches the overlay mount (it was
// left until gc: Spec.CrashUnmount); then gc alone removes the rest:
// .strata/worktrees/run-*, .strata/tmp/run-* and any cgroup left. A
// plain gc does, at once: the run's lock on its directory is free, so
// no grace is needed to tell a dead run from one starting.
func TestGCRemovesKilledRunLeftovers(t *testing.T) {
	env := busyboxRepo(t)
	run := strataCmd(env, "run", "--rev", "main", "--", "sleep", "1000")
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { run.Process.Kill(); run.Wait() })
	// Wait (bounded, not timed) until the run has registered itself.
	var records []string
	for i := 0; i < 600 && len(records) == 0; i++ {
		records, _ = filepath.Glob(filepath.Join(env, ".strata", "worktrees", "run-*", "runs", "run-*"))
		time.Sleep(50 * time.Millisecond)
	}
	if len(records) == 0 {
		t.Fatal("the run never registered")
	}
	pid := run.Process.Pid
	// And until its watchdog runs (10 ms after the container starts).
	for i := 0; i < 600 && !watchdogRuns(pid); i++ {
		time.Sleep(50 * time.Millisecond)
	}
	run.Process.Signal(syscall.SIGKILL)
	run.Wait()

	leftovers := func() []string {
		var out []string
		for _, g := range []string{
			filepath.Join(env, ".strata", "worktrees", "run-*"),
			filepath.Join(env, ".strata", "tmp", "run-*"),
			filepath.Join("/sys/fs/cgroup", "*", fmt.Sprintf("strata-%d-*", pid)),
			filepath.Join("/sys/fs/cgroup", fmt.Sprintf("strata-%d-*", pid)),
		} {
			m, _ := filepath.Glob(g)
			out = append(out, m...)
		}
		b, _ := os.ReadFile("/proc/self/mountinfo")
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[4], env+"/") {
				out = append(out, "mount "+f[4])
			}
		}
		return out
	}
	mounted := func() (m []string) {
		for _, l := range leftovers() {
			if strings.HasPrefix(l, "mount ") {
				m = append(m, l)
			}
		}
		return m
	}
	for i := 0; i < 200 && len(mounted()) > 0; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if m := mounted(); len(m) > 0 {
		t.Errorf("10 s after strata was killed, its throwaway tree is still mounted: %v", m)
	}
	before := leftovers()
	if len(before) < 2 {
		t.Fatalf("the killed run left only %v: nothing for gc to do, the test means nothing", before)
	}
	out, err := strataCmd(env, "gc").CombinedOutput()
	if err != nil {
		t.Fatalf("gc: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "removed the work tree of killed run run-") {
		t.Errorf("gc did not say what it removed:\n%s", out)
	}
	if after := leftovers(); len(after) > 0 {
		t.Fatalf("after gc, still there: %v (before: %v)", after, before)
	}
	fsckClean(t, env)
}

// watchdogRuns reports whether the cleanup watchdog of the run strata
// pid started is running: its arguments name the run's cgroups,
// strata-PID-*.
func watchdogRuns(pid int) bool {
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range cmdlines {
		b, _ := os.ReadFile(f)
		args := strings.Split(string(b), "\x00")
		if args[0] == "strata-watchdog" && strings.Contains(string(b), fmt.Sprintf("/strata-%d-", pid)) {
			return true
		}
	}
	return false
}
