package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// TestRegularFilesBeneathSwap: a directory a running container swaps
// for a link to this machine's files while grep walks the checkout is
// not gone through: grep listed (and then failed on) what the link led
// to, and went through the host's whole tree behind a link to /.
func TestRegularFilesBeneathSwap(t *testing.T) {
	dir := t.TempDir()
	root, host := filepath.Join(dir, "root"), filepath.Join(dir, "host")
	for _, d := range []string{filepath.Join(root, "a"), host} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{filepath.Join(root, "a", "inside"), filepath.Join(root, "top"), filepath.Join(host, "secret")} {
		if err := os.WriteFile(f, []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	// The swap happens once the walk has seen "/a" as a directory.
	files, err := regularFilesBeneath(fd, func(q string) bool {
		if q == "/a" {
			if err := os.RemoveAll(filepath.Join(root, "a")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(host, filepath.Join(root, "a")); err != nil {
				t.Fatal(err)
			}
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(files, []string{"/top"}) {
		t.Fatalf("files: %q; want [/top] (a/ was swapped for a link to %s)", files, host)
	}
}
