package stagedir

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// A directory is swept only once its maker let go of it, mounts first.
func TestSweepTakesOnlyUnlocked(t *testing.T) {
	tmp := t.TempDir()
	dir, unlock, err := Make(tmp, Build)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	mnt := filepath.Join(dir, "mem")
	if err := os.Mkdir(mnt, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("stagedir-test", mnt, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatal(err)
	}
	defer unix.Unmount(mnt, unix.MNT_DETACH)
	os.WriteFile(filepath.Join(mnt, "f"), []byte("f"), 0o644)
	if got, err := Sweep(tmp, Build, false); err != nil || len(got) != 0 {
		t.Fatalf("swept a held directory: %v %v", got, err)
	}
	unlock()
	if got, err := Sweep(tmp, Build, true); err != nil || len(got) != 1 {
		t.Fatalf("dry run: %v %v", got, err)
	}
	if _, err := os.Stat(filepath.Join(mnt, "f")); err != nil {
		t.Fatalf("the dry run removed: %v", err)
	}
	if got, err := Sweep(tmp, Build, false); err != nil || len(got) != 1 || got[0] != filepath.Base(dir) {
		t.Fatalf("sweep: %v %v", got, err)
	}
	if _, err := os.Lstat(dir); !os.IsNotExist(err) {
		t.Fatalf("%s: %v", dir, err)
	}
}
