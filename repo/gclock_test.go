package repo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-sh/strata/internal/lockfile"
)

// TestGCLock: architecture.md's locks table: .strata/gc.lock lets one
// gc run at a time; a live gc makes the next fail at once, and a lock
// file nobody holds (its gc was killed) is taken over.
func TestGCLock(t *testing.T) {
	r, _ := linearRepo(t, 2)
	path := filepath.Join(r.Root, "gc.lock")
	held, err := lockfile.Try(path)
	if err != nil || held == nil {
		t.Fatalf("take gc.lock: %v, %v", held, err)
	}
	if _, err := r.GC(GCOptions{}); err == nil || !strings.Contains(err.Error(), "gc is running in another process") {
		t.Fatalf("gc while another holds gc.lock: %v", err)
	}
	held.Release()
	// A killed gc leaves the file, unflocked.
	if err := os.WriteFile(path, []byte("4242\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := r.GC(GCOptions{}); err != nil {
		t.Fatalf("gc over a dead gc's lock file: %v", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("gc.lock after gc: %v", err)
	}
}
