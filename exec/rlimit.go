package exec

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Rlimit is a resource limit of a container's processes (docker's
// --ulimit): Resource is an RLIMIT_* number; a value of RLIM_INFINITY
// (^uint64(0)) is unlimited. The caller checks soft <= hard.
type Rlimit struct {
	Resource   int
	Soft, Hard uint64
	Name       string // as the user gave it ("nofile"), for errors
}

// setRlimits gives host process pid the limits, before it executes the
// command, which inherits them with all it starts. strata sets them from
// outside, with its own privilege: the container's capabilities (no
// CAP_SYS_RESOURCE by default) cannot raise a hard limit, strata's can,
// as docker's runtime sets them before it drops capabilities.
func setRlimits(pid int, rls []Rlimit) error {
	if pid <= 0 && len(rls) > 0 {
		// prlimit's 0 is this process: strata's own limits.
		return fmt.Errorf("--ulimit: no process to limit")
	}
	for _, r := range rls {
		if err := unix.Prlimit(pid, r.Resource, &unix.Rlimit{Cur: r.Soft, Max: r.Hard}, nil); err != nil {
			return fmt.Errorf("--ulimit %s: %w", r.Name, err)
		}
	}
	return nil
}
