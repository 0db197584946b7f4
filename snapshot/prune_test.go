package snapshot

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/stagedir"
)

// TestPruneSweepsKilledBuilds: the directory a killed snapshot build left
// (its lock free) goes at the next prune, however young; one a live build
// holds stays.
func TestPruneSweepsKilledBuilds(t *testing.T) {
	s := &Snapshots{dir: t.TempDir()}
	live, unlock, err := stagedir.Make(s.dir, tmpPrefix)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	// What a SIGKILL leaves: the directory, half filled, and no lock.
	dead := filepath.Join(s.dir, tmpPrefix+"killed")
	if err := os.MkdirAll(filepath.Join(dead, "fs", "usr"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := s.Prune(func(digest.Digest) bool { return true }); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(dead); !os.IsNotExist(err) {
		t.Errorf("a killed build's directory is still there (%v)", err)
	}
	if _, err := os.Lstat(live); err != nil {
		t.Errorf("a live build's directory was removed: %v", err)
	}
}
