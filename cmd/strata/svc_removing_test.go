package main

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/strata-sh/strata/repo"
)

// TestFinishRemovalsLeavesAMount: a half-removed run's directory with
// something mounted below it is left alone, since a deletion would go
// through the mount (here a bind mount of another directory, whose file
// it deleted); once nothing is mounted there, it is deleted.
func TestFinishRemovalsLeavesAMount(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("needs root to mount (the tests run as root)")
	}
	other := t.TempDir()
	kept := filepath.Join(other, "file")
	if err := os.WriteFile(kept, []byte("keep\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &repo.Repo{Root: t.TempDir()}
	gone := filepath.Join(servicesDir(r), removingPrefix+"web-0a1b2c3d")
	point := filepath.Join(gone, "tree", "svc-web")
	if err := os.MkdirAll(point, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(other, point, "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(point, unix.MNT_DETACH) })

	finishRemovals(r)
	if _, err := os.Stat(kept); err != nil {
		t.Fatalf("deleted through the mount: %v", err)
	}
	if _, err := os.Stat(gone); err != nil {
		t.Fatalf("removed with a mount below it: %v", err)
	}

	if err := unix.Unmount(point, 0); err != nil {
		t.Fatal(err)
	}
	finishRemovals(r)
	if _, err := os.Stat(gone); !os.IsNotExist(err) {
		t.Fatalf("left once unmounted: %v", err)
	}
	if _, err := os.Stat(kept); err != nil {
		t.Fatal(err)
	}
}
