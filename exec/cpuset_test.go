package exec

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSwapAndCpusetLimitFiles: --memory-swap is memory and swap
// together, as v1's memsw; v2 limits swap alone. The cpuset lists go
// to v2's files as given.
func TestSwapAndCpusetLimitFiles(t *testing.T) {
	for _, c := range []struct {
		swap     int64
		v1, v2sw string
	}{
		{0, "1073741824", "0"},                // no --memory-swap: no swap
		{1 << 30, "1073741824", "0"},          // equal: no swap
		{3 << 30, "3221225472", "2147483648"}, // 2g of swap
		{-1, "-1", "max"},                     // unlimited swap
	} {
		r := Resources{MemoryBytes: 1 << 30, MemorySwap: c.swap}
		want1 := fmt.Sprint([]limit{{"memory.limit_in_bytes", "1073741824"}, {"memory.memsw.limit_in_bytes", c.v1}})
		if got := fmt.Sprint(v1Limits(r)["memory"]); got != want1 {
			t.Errorf("v1, swap %d: %s, want %s", c.swap, got, want1)
		}
		want2 := fmt.Sprint([]limit{{"memory.max", "1073741824"}, {"memory.swap.max", c.v2sw}})
		if got := fmt.Sprint(v2Limits(r)); got != want2 {
			t.Errorf("v2, swap %d: %s, want %s", c.swap, got, want2)
		}
	}
	r := Resources{CpusetCpus: "0,2-3", CpusetMems: "0"}
	want := fmt.Sprint([]limit{{"cpuset.cpus", "0,2-3"}, {"cpuset.mems", "0"}})
	if got := fmt.Sprint(v2Limits(r)); got != want {
		t.Errorf("v2 cpuset: %s, want %s", got, want)
	}
	if !r.any() {
		t.Error("a cpuset alone is a limit: the container needs a cgroup with it")
	}
}

// TestCheckCpuset: docker's checks and words, against the root
// cgroup's lists (here a v1 tree in a directory).
func TestCheckCpuset(t *testing.T) {
	old := cgroupRoot
	t.Cleanup(func() { cgroupRoot = old })
	cgroupRoot = t.TempDir()
	os.Mkdir(filepath.Join(cgroupRoot, "cpuset"), 0o755)
	os.WriteFile(filepath.Join(cgroupRoot, "cpuset", "cpuset.cpus"), []byte("0-3,6\n"), 0o644)
	os.WriteFile(filepath.Join(cgroupRoot, "cpuset", "cpuset.mems"), []byte("0\n"), 0o644)
	for _, c := range []struct{ cpus, mems, err string }{
		{"0", "", ""},
		{"0-3,6", "0", ""},
		{"1,2-3", "", ""},
		{"3-6", "", "Requested CPUs are not available - requested 3-6, available: 0-3,6"},
		{"7", "", "Requested CPUs are not available - requested 7, available: 0-3,6"},
		{"", "1", "Requested memory nodes are not available - requested 1, available: 0"},
		{"x", "", "Invalid value x for cpuset cpus: invalid format: x"},
		{"3-1", "", "Invalid value 3-1 for cpuset cpus: invalid format: 3-1"},
		{"1,", "", "Invalid value 1, for cpuset cpus: invalid format: 1,"},
		{"-1", "", "Invalid value -1 for cpuset cpus: invalid format: -1"},
		{"0-99999999", "", "Invalid value 0-99999999 for cpuset cpus: value of out range, maximum is 8192"},
		{"1-9223372036854775807", "", "Invalid value 1-9223372036854775807 for cpuset cpus: value of out range, maximum is 8192"},
		{"9223372036854775808", "", "Invalid value 9223372036854775808 for cpuset cpus: invalid format: 9223372036854775808"},
		{"8193", "", "Invalid value 8193 for cpuset cpus: value of out range, maximum is 8192"},
		{"8192", "", "Requested CPUs are not available - requested 8192, available: 0-3,6"},
		{"", "0-", "Invalid value 0- for cpuset mems: invalid format: 0-"},
		// docker's Atoi takes "+1" and passes it to the kernel, which
		// refuses it; the kernel takes " 1" and "1,", docker does not.
		{"+1", "", "Invalid value +1 for cpuset cpus: invalid format: +1"},
		{" 1", "", "Invalid value  1 for cpuset cpus: invalid format:  1"},
		{"1 ", "", "Invalid value 1  for cpuset cpus: invalid format: 1 "},
		{"1-", "", "Invalid value 1- for cpuset cpus: invalid format: 1-"},
		{"1,,2", "", "Invalid value 1,,2 for cpuset cpus: invalid format: 1,,2"},
		{"1-2-3", "", "Invalid value 1-2-3 for cpuset cpus: invalid format: 1-2-3"},
		{"0-0", "", ""},
		{"01,6-6", "", ""},
	} {
		err := CheckCpuset(c.cpus, c.mems)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.err {
			t.Errorf("CheckCpuset(%q, %q) = %q, want %q", c.cpus, c.mems, got, c.err)
		}
	}
	// A machine with more CPUs than docker's 8192 takes its own largest
	// as the bound.
	os.WriteFile(filepath.Join(cgroupRoot, "cpuset", "cpuset.cpus"), []byte("0-9999\n"), 0o644)
	if err := CheckCpuset("9999", ""); err != nil {
		t.Errorf("CheckCpuset(9999) with 0-9999 available: %v", err)
	}
	want := "Invalid value 10000 for cpuset cpus: value of out range, maximum is 9999"
	if err := CheckCpuset("10000", ""); err == nil || err.Error() != want {
		t.Errorf("CheckCpuset(10000) with 0-9999 available: %v, want %q", err, want)
	}
	os.WriteFile(filepath.Join(cgroupRoot, "cpuset", "cpuset.cpus"), []byte("0-3,6\n"), 0o644)
	l, err := v1Cpuset(Resources{CpusetCpus: "1"})
	if want := fmt.Sprint([]limit{{"cpuset.cpus", "1"}, {"cpuset.mems", "0"}}); err != nil || fmt.Sprint(l) != want {
		t.Errorf("v1Cpuset: %v %v, want %s (a v1 cpuset needs both lists)", l, err, want)
	}
}

// A cpuset list the kernel refuses (Run does not check it: CheckCpuset
// is the CLI's, before anything is made) fails the run with the
// kernel's reason, and leaves no cgroup: "+1" is not a list to it, 3-1
// runs backwards, CPU 8000 does not exist. Against the real kernel.
func TestCpusetRefusedLeavesNothing(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for cgroups")
	}
	root := busybox(t)
	for v, why := range map[string]string{"+1": "invalid argument", "3-1": "invalid argument", "8000": "numerical result out of range"} {
		code, err := Run(context.Background(), Spec{Root: root, Args: []string{"true"}, Resources: Resources{CpusetCpus: v}})
		if err == nil || code != 125 || !strings.Contains(err.Error(), "cpuset") {
			t.Errorf("--cpuset-cpus %q: exit %d, %v; want 125 and a cpuset error", v, code, err)
		}
		// The reasons are v1's, this machine's; the cgroup-v2 VM may
		// refuse sooner (no cpuset controller to enable), or otherwise.
		if !cgroupV2() && (err == nil || !strings.Contains(err.Error(), "cgroup limit cpuset.cpus="+v+": ") || !strings.HasSuffix(err.Error(), why)) {
			t.Errorf("--cpuset-cpus %q: %v; want the kernel's %q", v, err, why)
		}
		if d := ourCgroups(os.Getpid()); len(d) != 0 {
			t.Fatalf("--cpuset-cpus %q: cgroups left after the refusal: %v", v, d)
		}
	}
}
