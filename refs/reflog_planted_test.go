package refs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/strata-sh/strata/internal/regfile"
)

// A reflog planted as a FIFO in a repository handed over is refused, not
// opened: before, the open waited for a reader forever, out of reach of
// Ctrl-C and SIGTERM ('strata branch y main' hung). The test holds a
// reader itself so that the old code wrote into the FIFO instead of
// hanging the test; the move must fail and the ref must not move.
func TestReflogPlantedFIFO(t *testing.T) {
	s := newStore(t)
	log := filepath.Join(s.root, "logs", "refs", "heads", "y")
	if err := os.MkdirAll(filepath.Dir(log), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(log, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := os.OpenFile(log, os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	err = s.Update(Heads+"y", mkdigest("aaaa1"), "", "branch: Created from main")
	if !errors.Is(err, regfile.ErrNotRegular) {
		t.Errorf("Update with a FIFO for its reflog: %v, want %v", err, regfile.ErrNotRegular)
	}
	if _, err := os.Stat(filepath.Join(s.root, "refs", "heads", "y")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the ref moved anyway: %v", err)
	}
}
