package exec

// SweepLeftovers removes the cgroups (killing what still runs in them) and
// temporary directories of runs whose strata process is gone: strata gc
// calls it, so that a run killed with SIGKILL leaves nothing even if no
// run follows.
func SweepLeftovers() { sweepLeftovers() }
