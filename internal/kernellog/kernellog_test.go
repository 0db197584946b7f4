package kernellog

import (
	"fmt"
	"os"
	"testing"
)

// TestWatchSeesNewRecords: the watcher counts a record logged after it
// started, and none logged before.
func TestWatchSeesNewRecords(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("needs root: writes to /dev/kmsg")
	}
	logKernel := func(msg string) {
		if err := os.WriteFile("/dev/kmsg", []byte(msg), 0); err != nil {
			t.Fatal(err)
		}
	}
	// A token of this run's own: other tests on the machine may log
	// real warnings meanwhile.
	token := fmt.Sprintf("strata-kernellog-test-%d", os.Getpid())
	logKernel(token + " (before the watch): not counted\n")
	count := Watch(t, token)
	if n := count(); n != 0 {
		t.Fatalf("counted %d records logged before the watch", n)
	}
	logKernel(token + ": counted\n")
	logKernel("strata test: another record, not counted\n")
	if n := count(); n != 1 {
		t.Fatalf("counted %d records, want 1", n)
	}
}
