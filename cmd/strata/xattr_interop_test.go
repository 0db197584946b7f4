//go:build !strata_front

package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-sh/strata/internal/testregistry"
	"golang.org/x/sys/unix"
)

// TestEmptyXattrKeptWherePodmanDropsIt: an xattr whose value is empty is
// a SCHILY.xattr record with an empty value in the layer; strata's
// checkout sets it, as GNU tar does, and podman's unpack drops it (Go's
// archive/tar leaves empty records out of Header.Xattrs): docs/format.md.
func TestEmptyXattrKeptWherePodmanDropsIt(t *testing.T) {
	podman := podmanCmd(t)
	reg := testregistry.Start(t)
	dir := busyboxRepo(t)
	strataOK(t, dir, "checkout", "main")
	file := filepath.Join(dir, "rootfs", "xa")
	if err := os.WriteFile(file, []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, value := range map[string]string{"user.empty": "", "user.full": "v"} {
		if err := unix.Setxattr(file, name, []byte(value), 0); err != nil {
			t.Fatal(err)
		}
	}
	strataOK(t, dir, "commit", "-q", "-m", "xattrs")
	strataOK(t, dir, "push", "-q", reg.Repo("t/x"), "main")

	xattrs := func(root string) map[string]bool {
		t.Helper()
		names := make(map[string]bool)
		for _, name := range []string{"user.empty", "user.full"} {
			buf := make([]byte, 16)
			_, err := unix.Lgetxattr(filepath.Join(root, "xa"), name, buf)
			switch {
			case err == nil:
				names[name] = true
			case !errors.Is(err, unix.ENODATA):
				t.Fatalf("getxattr %s: %v", name, err)
			}
		}
		return names
	}
	clone := filepath.Join(t.TempDir(), "c")
	t.Cleanup(func() { unmountUnder(clone) })
	strataOK(t, filepath.Dir(clone), "clone", "-q", reg.Repo("t/x")+":main", clone)
	if got := xattrs(filepath.Join(clone, "rootfs")); !got["user.empty"] || !got["user.full"] {
		t.Errorf("strata clone's checkout has %v, want user.empty and user.full", got)
	}
	runTool(t, "podman", append(podman, "pull", "-q", "--tls-verify=false", reg.Repo("t/x")+":main")...)
	mounted := strings.TrimSpace(runTool(t, "podman", append(podman, "image", "mount", reg.Repo("t/x")+":main")...))
	t.Cleanup(func() { runTool(t, "podman", append(podman, "image", "unmount", "-a")...) })
	if got := xattrs(mounted); got["user.empty"] || !got["user.full"] {
		t.Errorf("podman's tree has %v, want user.full alone (podman drops an empty value)", got)
	}
}
