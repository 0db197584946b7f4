package testrootfs

import (
	"os"
	"path/filepath"
	"testing"
)

func TestBusybox(t *testing.T) {
	dir := Busybox(t)
	for _, p := range []string{"bin/busybox", "bin/sh", "usr/bin/env", "etc/passwd", "etc/group"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("missing %s: %v", p, err)
		}
	}
	fi, err := os.Stat(filepath.Join(dir, "tmp"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSticky == 0 || fi.Mode().Perm() != 0o777 {
		t.Errorf("tmp mode = %v, want 1777", fi.Mode())
	}
	if target, err := os.Readlink(filepath.Join(dir, "bin/sh")); err != nil || target != "/bin/busybox" {
		t.Errorf("bin/sh -> %q, %v", target, err)
	}
}
