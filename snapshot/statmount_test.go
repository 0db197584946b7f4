package snapshot

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/strata-sh/strata/internal/kmount"
	"golang.org/x/sys/unix"
)

// statmountAnswers: the fast path answers on this kernel (6.11 and
// later; kmount's TestStatmountAnswersHere checks which).
func statmountAnswers() bool {
	_, err := kmount.Of("/")
	return err == nil
}

// mountOverlay mounts an overlay of one lower on target (made if need
// be), its directories in a new directory below root named name, and
// unmounts it when the test ends.
func mountOverlay(t *testing.T, root, name, target string) (upper string) {
	t.Helper()
	base := filepath.Join(root, name)
	lower, upper, work := base+"/lower", base+"/up per", base+"/work"
	for _, d := range []string{lower + "/sub", upper, work, target} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := Plan([]string{lower}, upper, work, target).Do(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Unmount(target) })
	return upper
}

// TestMountedAgreesWithTable: statmount's answer and mountinfo's are the
// same for overlays whose paths hold what mountinfo escapes (a space, a
// comma, a backslash, '='), for a mount stacked on one, for a directory
// that is no mount point and for a path that does not exist.
func TestMountedAgreesWithTable(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting an overlay needs root")
	}
	root := t.TempDir()
	var targets []string
	for _, name := range []string{"plain", "a b", "c,d", `e\f`, "g=h:i"} {
		target := filepath.Join(root, name, "target")
		upper := mountOverlay(t, root, name, target)
		got, ok, err := Mounted(target)
		if err != nil || !ok || got.FSType != "overlay" || got.Upper != upper {
			t.Errorf("Mounted(%q) = %+v, %v, %v; want the overlay with upper %q", target, got, ok, err, upper)
		}
		// On a kernel that can, the answer above came from statmount.
		if m, err := kmount.Of(target); statmountAnswers() && (err != nil || m.Point != target) {
			t.Errorf("statmount of %q: %+v, %v", target, m, err)
		}
		targets = append(targets, target)
	}
	stacked := targets[0]
	if err := unix.Mount("tmpfs", stacked, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(stacked, 0) })
	if got, ok, err := Mounted(stacked); err != nil || !ok || got.FSType != "tmpfs" {
		t.Errorf("Mounted of a tmpfs on an overlay = %+v, %v, %v; want the tmpfs", got, ok, err)
	}
	targets = append(targets, root, filepath.Join(root, "missing"), filepath.Join(targets[1], "sub"))
	for _, target := range targets {
		got, ok, err := Mounted(target)
		want, wantOK, wantErr := mountedFromTable(target)
		if err != nil || wantErr != nil {
			t.Fatalf("Mounted(%q): %v; from the table: %v", target, err, wantErr)
		}
		if ok != wantOK || got.FSType != want.FSType || got.Upper != want.Upper || got.Target != want.Target {
			t.Errorf("Mounted(%q) = %+v, %v; the table says %+v, %v", target, got, ok, want, wantOK)
		}
	}
}

// TestOverlaysAboveAgreesWithTable: an overlay mounted inside another,
// looked at from a directory in the inner one, from the inner mount
// point and from the outer one: the same overlays, innermost first,
// either way.
func TestOverlaysAboveAgreesWithTable(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting an overlay needs root")
	}
	root := t.TempDir()
	// An overlay's upper cannot lie on an overlay: only the inner's
	// mount point is in the outer.
	outer := filepath.Join(root, "out er", "target")
	outerUpper := mountOverlay(t, root, "out er", outer)
	inner := filepath.Join(outer, "in,ner")
	innerUpper := mountOverlay(t, root, "in,ner", inner)
	for _, c := range []struct {
		dir    string
		uppers []string
	}{
		{filepath.Join(inner, "sub"), []string{innerUpper, outerUpper}},
		{inner, []string{innerUpper, outerUpper}},
		{outer, []string{outerUpper}},
		{root, nil},
	} {
		got, err := OverlaysAbove(c.dir)
		want, wantErr := overlaysAboveFromTable(c.dir)
		if err != nil || wantErr != nil {
			t.Fatalf("OverlaysAbove(%q): %v; from the table: %v", c.dir, err, wantErr)
		}
		// The host's root may itself be an overlay (a container's): keep
		// the ones made here.
		var uppers, tableUppers []string
		for _, m := range got {
			if strings.HasPrefix(m.Upper, root) {
				uppers = append(uppers, m.Upper)
			}
		}
		for _, m := range want {
			if strings.HasPrefix(m.Upper, root) {
				tableUppers = append(tableUppers, m.Upper)
			}
		}
		if !reflect.DeepEqual(uppers, c.uppers) || !reflect.DeepEqual(tableUppers, c.uppers) {
			t.Errorf("OverlaysAbove(%q): uppers %q, from the table %q; want %q", c.dir, uppers, tableUppers, c.uppers)
		}
	}
}

// BenchmarkMounted: the one-mount question against reading the table,
// with this host's mounts (the table's cost grows with them; the
// question's does not).
func BenchmarkMounted(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("mounting an overlay needs root")
	}
	root := b.TempDir()
	target := filepath.Join(root, "target")
	for _, d := range []string{root + "/lower", root + "/upper", root + "/work", target} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			b.Fatal(err)
		}
	}
	if err := Plan([]string{root + "/lower"}, root+"/upper", root+"/work", target).Do(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { Unmount(target) })
	for name, mounted := range map[string]func(string) (MountInfo, bool, error){
		"statmount": Mounted, "table": mountedFromTable,
	} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, ok, err := mounted(target); !ok || err != nil {
					b.Fatal(ok, err)
				}
			}
		})
	}
}
