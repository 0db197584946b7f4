package exec

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestPrewarm: a Run after Prewarm uses what it prepared, starts a
// confined container and leaves no temporary directory or cgroup of its
// own behind; the default filter is compiled once.
func TestPrewarm(t *testing.T) {
	root := busybox(t)
	Prewarm()
	Prewarm() // once
	caps, err := capSet(false, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	b1, err := seccompBytes(caps)
	if err != nil || len(b1) == 0 {
		t.Fatalf("seccomp program: %d bytes, %v", len(b1), err)
	}
	if b2, _ := seccompBytes(caps); &b2[0] != &b1[0] {
		t.Fatal("the default program was compiled twice")
	}
	out := mustSh(t, root, nil, "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status")
	if out != "NoNewPrivs:\t1\nSeccomp:\t2\n" {
		t.Fatalf("confinement after Prewarm: %q", out)
	}
	<-sweepStarted() // done by the time Run returned
	mine := tmpPrefix + strconv.Itoa(os.Getpid()) + "-*"
	if left, _ := filepath.Glob(filepath.Join(runTempParent(), mine)); len(left) > 0 {
		t.Fatalf("left behind: %v", left)
	}
	if os.Geteuid() == 0 && !cgroupV2() {
		if left, _ := filepath.Glob(filepath.Join(cgroupRoot, "freezer", cgroupPrefix+strconv.Itoa(os.Getpid())+"-*")); len(left) > 0 {
			t.Fatalf("cgroups left behind: %v", left)
		}
	}
}
