package testmountns

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// overlayEnv names the host overlay the inner run must not hold.
const overlayEnv = "TESTMOUNTNS_HOST_OVERLAY"

// TestInsideHoldsNoHostOverlay: the namespace a test runs in does not
// keep a copy of an overlay the host had mounted (another test's
// checkout): the host's unmount never reaches a copy (/ is private), so
// the overlay stayed mounted there for as long as the test ran.
func TestInsideHoldsNoHostOverlay(t *testing.T) {
	if os.Getenv(env) == "" {
		merged := MountOverlay(t)
		t.Setenv(overlayEnv, merged)
	}
	if !Inside(t) {
		return
	}
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	merged := os.Getenv(overlayEnv)
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == merged {
			t.Errorf("the test's namespace holds the host's overlay: %s", line)
		}
	}
	// What the test mounts itself stays, of course.
	Tmpfs(t, filepath.Join(t.TempDir(), "own"))
}
