package exec

import (
	"os"
	"testing"
)

// TestCgroupVersion: where the caller says which hierarchy the host has
// (make test-vm sets STRATA_TEST_CGROUP=v2), exec must take that path, so
// that a v2 run cannot quietly test the v1 code.
func TestCgroupVersion(t *testing.T) {
	want := os.Getenv("STRATA_TEST_CGROUP")
	got := "v1"
	if cgroupV2() {
		got = "v2"
	}
	if want == "" {
		t.Logf("cgroup %s (set STRATA_TEST_CGROUP=v1 or v2 to require one)", got)
		return
	}
	if want != "v1" && want != "v2" {
		t.Fatalf("STRATA_TEST_CGROUP=%q, want v1 or v2", want)
	}
	if got != want {
		t.Fatalf("exec sees cgroup %s at %s, the environment says %s", got, cgroupRoot, want)
	}
}
