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
	parent := runTempParent()
	ents, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	for _, e := range ents {
		if e.IsDir() && strings.HasPrefix(e.Name(), tmpPrefix) && !ownerAlive(e.Name(), tmpPrefix) {
			slog.Debug("sweep leftover run directory", "dir", e.Name())
			os.RemoveAll(filepath.Join(parent, e.Name()))
		}
	}
}

// rootRunTemp holds root's per-run directories (the /etc files bound into
// a container): a directory of strata's own, so that the sweep of killed
// runs, which every run starts, reads it alone and not all of /tmp (0.6 ms
// on a /tmp of 500 entries).
const rootRunTemp = "/run/strata/runs"

// runTempParent is where a run makes its temporary directory: rootRunTemp
// as root, else the user's temporary directory.
func runTempParent() string {
	if os.Geteuid() == 0 && os.MkdirAll(rootRunTemp, 0o700) == nil {
		return rootRunTemp
	}
	return os.TempDir()
}
