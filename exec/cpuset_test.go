package exec

import (
	"fmt"
	"os"
	"path/filepath"
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
		{"0-99999999", "", "Invalid value 0-99999999 for cpuset cpus: invalid format: 0-99999999: 99999999 is past the kernel's 8191"},
		{"", "0-", "Invalid value 0- for cpuset mems: invalid format: 0-"},
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
	l, err := v1Cpuset(Resources{CpusetCpus: "1"})
	if want := fmt.Sprint([]limit{{"cpuset.cpus", "1"}, {"cpuset.mems", "0"}}); err != nil || fmt.Sprint(l) != want {
		t.Errorf("v1Cpuset: %v %v, want %s (a v1 cpuset needs both lists)", l, err, want)
	}
}
