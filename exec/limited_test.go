package exec

import (
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestInitLeavesLimitsToTheCommand: with Init, the command gets its limits
// through the trampoline while pid 1 keeps its own. Set on pid 1, data=1e6
// failed its Go runtime's thread starts and nofile=5 its fork.
func TestInitLeavesLimitsToTheCommand(t *testing.T) {
	root := busybox(t)
	low := func(s *Spec) {
		s.Init = true
		s.Rlimits = []Rlimit{
			{Resource: unix.RLIMIT_NOFILE, Soft: 5, Hard: 5, Name: "nofile"},
			{Resource: unix.RLIMIT_DATA, Soft: 1000000, Hard: 1000000, Name: "data"},
		}
	}
	out := mustSh(t, root, low, "ulimit -n; ulimit -d; grep -E '^Max (open files|data size)' /proc/1/limits")
	lines := strings.Split(out, "\n")
	if len(lines) < 4 || lines[0] != "5" || lines[1] != "976" {
		t.Fatalf("the command's limits: %q", out)
	}
	for _, l := range lines[2:4] {
		if f := strings.Fields(l); len(f) < 5 || f[3] == "5" || f[3] == "1000000" {
			t.Errorf("pid 1 lives under the command's limit: %q", l)
		}
	}
}

// TestInitRaisesHardLimit: a hard limit above strata's own is raised by
// pid 1 while it still has CAP_SYS_RESOURCE, then set by the trampoline,
// which has not. Run in the cgroup-v2 VM (scripts/test-vm.sh), whose root
// has the capability; the host this was written on withholds it from root.
func TestInitRaisesHardLimit(t *testing.T) {
	if !hasCap(unix.CAP_SYS_RESOURCE) {
		t.Skip("needs CAP_SYS_RESOURCE to raise a hard limit (scripts/test-vm.sh has it)")
	}
	var saved unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &saved); err != nil {
		t.Fatal(err)
	}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: 1024, Max: 4096}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Setrlimit(unix.RLIMIT_NOFILE, &saved) })
	out := mustSh(t, busybox(t), func(s *Spec) {
		s.Init = true
		s.Rlimits = []Rlimit{{Resource: unix.RLIMIT_NOFILE, Soft: 2000, Hard: 8192, Name: "nofile"}}
	}, "ulimit -n; ulimit -Hn")
	if out != "2000\n8192\n" {
		t.Fatalf("limits %q, want 2000 and 8192", out)
	}
}

func hasCap(c int) bool {
	var data [2]unix.CapUserData
	if err := unix.Capget(&unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}, &data[0]); err != nil {
		return false
	}
	return data[c/32].Effective&(1<<(uint(c)%32)) != 0
}

// TestLimitedCommandWire: what pid 1 sends the trampoline comes back
// whole, and a cut or empty message is refused, not half read.
func TestLimitedCommandWire(t *testing.T) {
	in := limitedCommand{Path: "/bin/sh", Args: []string{"sh", "-c", "true"}, Env: []string{"A=1", "B="},
		Rlimits: []Rlimit{{Resource: unix.RLIMIT_NOFILE, Soft: 3, Hard: ^uint64(0), Name: "nofile"}}}
	b := in.encode()[4:]
	var out limitedCommand
	if err := out.decode(b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("got %+v, want %+v", out, in)
	}
	for _, cut := range [][]byte{nil, b[:len(b)-1], append(b[:len(b):len(b)], 0)} {
		if err := new(limitedCommand).decode(cut); err == nil {
			t.Errorf("decode of %d of %d bytes: no error", len(cut), len(b))
		}
	}
}
