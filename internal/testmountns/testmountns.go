// Package testmountns runs a test in a private mount namespace of its
// own, where the mounts it makes vanish with it, even when it fails.
package testmountns

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// env names the test the re-run is for.
const env = "STRATA_TEST_MOUNT_NS"

// Inside runs the calling test again under unshare -m with private
// propagation and reports whether this is that run: a test does its
// work when Inside is true, and returns otherwise. The outer run fails
// when the inner one fails, and skips when it skips.
func Inside(t *testing.T) bool {
	t.Helper()
	if os.Getenv(env) == t.Name() {
		return true
	}
	if os.Geteuid() != 0 {
		t.Skip("mounting needs root")
	}
	cmd := exec.Command("unshare", "-m", "--propagation", "private",
		os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), env+"="+t.Name())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("in a mount namespace: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "--- SKIP") {
		t.Skipf("in a mount namespace:\n%s", out)
	}
	t.Logf("in a mount namespace:\n%s", out)
	return false
}

// Tmpfs mounts an empty tmpfs on dir (made if missing) for the rest of
// the test, in the namespace Inside runs it in: a directory other
// processes of the machine share (strata's freeze locks) becomes this
// test's alone. It fails a test that is not inside.
func Tmpfs(t *testing.T, dir string) {
	t.Helper()
	if os.Getenv(env) != t.Name() {
		t.Fatalf("tmpfs on %s: not in the test's own mount namespace (testmountns.Inside)", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0700"); err != nil {
		t.Fatalf("tmpfs on %s: %v", dir, err)
	}
}
