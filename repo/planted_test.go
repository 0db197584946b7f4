package repo

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/strata-sh/strata/internal/kmount"
	"github.com/strata-sh/strata/internal/testmountns"
	"golang.org/x/sys/unix"
)

// mountTestOverlay mounts an overlay on target (made if need be), its
// directories below root/name, and returns its upper.
func mountTestOverlay(t *testing.T, root, name, target string) string {
	t.Helper()
	base := filepath.Join(root, name)
	lower, upper, work := base+"/lower", base+"/up per", base+"/work"
	for _, d := range []string{lower + "/sub", upper, work, target} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	opts := "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work
	if err := unix.Mount("overlay", target, "overlay", 0, opts); err != nil {
		t.Fatalf("mount %s: %v", target, err)
	}
	t.Cleanup(func() { unix.Unmount(target, unix.MNT_DETACH) })
	return upper
}

// TestOverlayUpperAgreesWithTable: the innermost overlay's upper, asked
// of the kernel mount by mount (planted's question) and read from the
// table, is the same: inside an overlay mounted in another, at its mount
// point, in the outer one, in a tmpfs mounted in the outer one, and
// outside both.
func TestOverlayUpperAgreesWithTable(t *testing.T) {
	if !testmountns.Inside(t) {
		return
	}
	if _, err := kmount.Of("/"); err != nil {
		t.Skipf("statmount cannot answer on this kernel: %v", err)
	}
	root := t.TempDir()
	outer := filepath.Join(root, "out er", "target")
	outerUpper := mountTestOverlay(t, root, "out er", outer)
	inner := filepath.Join(outer, "in,ner")
	innerUpper := mountTestOverlay(t, root, "inner", inner) // mount(2) splits options at a comma
	mem := filepath.Join(outer, "mem")
	if err := os.Mkdir(mem, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", mem, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(mem, unix.MNT_DETACH) })
	host, err := overlayUpperFromTable(root) // the host's root may be an overlay
	if err != nil {
		t.Fatal(err)
	}
	for dir, want := range map[string]string{
		filepath.Join(inner, "sub"): innerUpper,
		inner:                       innerUpper,
		outer:                       outerUpper,
		mem:                         outerUpper,
		root:                        host,
	} {
		got, err := overlayUpper(dir)
		table, tableErr := overlayUpperFromTable(dir)
		if err != nil || tableErr != nil || got != want || table != want {
			t.Errorf("overlayUpper(%q) = %q, %v; the table %q, %v; want %q", dir, got, err, table, tableErr, want)
		}
	}
}
