package exec

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Processes are looked up by command line only among those of the test's
// own container: by name alone a lookup found another test's process (a
// story's container runs "sleep 1001" too) and took its pid, or waited
// for it to end.

// processesIn returns the host pids of the processes in pid's PID
// namespace whose command line is cmdline (NUL-terminated arguments).
func processesIn(t *testing.T, pid int, cmdline string) []int {
	t.Helper()
	ns, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/pid")
	if err != nil {
		t.Fatalf("the PID namespace of %d: %v", pid, err)
	}
	var found []int
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline"); err != nil || string(b) != cmdline {
			continue
		}
		if theirs, err := os.Readlink("/proc/" + e.Name() + "/ns/pid"); err == nil && theirs == ns {
			found = append(found, p)
		}
	}
	return found
}

// descendantRunning returns the host pid of the one descendant of
// ancestor whose command line is cmdline. It waits for it: a script that
// signals readiness before it execs its last command is seen a moment
// before that command (seen in the cgroup-v2 VM, where TCG is slow).
func descendantRunning(t *testing.T, ancestor int, cmdline string) int {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			pid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			if b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline"); err == nil && string(b) == cmdline && descends(pid, ancestor) {
				return pid
			}
		}
	}
	t.Fatalf("no descendant of %d runs %q", ancestor, cmdline)
	return 0
}

// descends reports whether pid is a descendant of ancestor.
func descends(pid, ancestor int) bool {
	for pid > 1 {
		p, err := parentOf(pid)
		if err != nil {
			return false
		}
		if p == ancestor {
			return true
		}
		pid = p
	}
	return false
}

// parentOf reads pid's parent from /proc/PID/stat, after the command
// name (which may hold spaces and parentheses).
func parentOf(pid int) (int, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 2 {
		return 0, os.ErrInvalid
	}
	return strconv.Atoi(f[1])
}
