//go:build !strata_init

package exec

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// SweepLeftovers removes the cgroups (killing what still runs in them) and
// temporary directories of runs whose strata process is gone: strata gc
// calls it, so that a run killed with SIGKILL leaves nothing even if no
// run follows.
func SweepLeftovers() { sweepLeftovers() }

// sweepLeftovers removes cgroups and temporary directories of strata runs
// whose process is gone.
func sweepLeftovers() {
	if os.Geteuid() == 0 {
		sweepCgroups()
	}
	ents, err := os.ReadDir(os.TempDir())
	if err != nil {
		return
	}
	for _, e := range ents {
		if e.IsDir() && strings.HasPrefix(e.Name(), tmpPrefix) && !ownerAlive(e.Name(), tmpPrefix) {
			slog.Debug("sweep leftover run directory", "dir", e.Name())
			os.RemoveAll(filepath.Join(os.TempDir(), e.Name()))
		}
	}
}
