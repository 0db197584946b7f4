// Package testmountns runs a test in a private mount namespace of its
// own, where the mounts it makes vanish with it, even when it fails.
package testmountns

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/sys/mountinfo"
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
		dropHostOverlays(t)
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

// dropHostOverlays lazily unmounts, in this namespace, the overlays it
// was born with: other tests' checkouts and containers. The host's
// unmount never reaches a copy (/ is private), so each stayed mounted
// here for as long as the test ran: strata fsck --repair refused to
// remove a snapshot beneath one, and mounting its upper again drew
// "upperdir is in-use". It keeps / and any overlay the test runs from
// (its working directory, binary or temporary directory below it).
func dropHostOverlays(t *testing.T) {
	t.Helper()
	ms, err := mountinfo.GetMounts(mountinfo.FSTypeFilter("overlay"))
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	exe, _ := os.Executable()
	uses := []string{wd, exe, os.TempDir()}
	for _, m := range ms {
		if m.Mountpoint == "/" || under(uses, m.Mountpoint) {
			continue
		}
		// One above it may have taken it along already (EINVAL).
		unix.Unmount(m.Mountpoint, unix.MNT_DETACH)
	}
}

// under reports whether any of paths is dir or below it.
func under(paths []string, dir string) bool {
	for _, p := range paths {
		if rel, err := filepath.Rel(dir, p); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			return true
		}
	}
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
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
}

// MountOverlay mounts an overlay of empty directories on the host, as
// another container tool would, until the test ends, and returns its
// mount point.
func MountOverlay(t *testing.T) string {
	t.Helper()
	base := t.TempDir()
	for _, d := range []string{"lower", "upper", "work", "merged"} {
		if err := os.Mkdir(filepath.Join(base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	merged := filepath.Join(base, "merged")
	opts := "lowerdir=" + filepath.Join(base, "lower") + ",upperdir=" + filepath.Join(base, "upper") + ",workdir=" + filepath.Join(base, "work")
	if err := unix.Mount("overlay", merged, "overlay", 0, opts); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(merged, unix.MNT_DETACH) })
	return merged
}
