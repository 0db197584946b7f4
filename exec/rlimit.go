package exec

import (
	"fmt"
	"syscall"
)

// Rlimit is a resource limit of a container's processes (docker's
// --ulimit): Resource is an RLIMIT_* number; a value of RLIM_INFINITY
// (^uint64(0)) is unlimited. The caller checks soft <= hard.
type Rlimit struct {
	Resource   int
	Soft, Hard uint64
	Name       string // as the user gave it ("nofile"), for errors
}

// limitSelf gives the calling process, an init at the end of its setup,
// the limits, which the command inherits with all it starts. The init
// still has strata's privilege then: the container's capabilities (no
// CAP_SYS_RESOURCE by default) cannot raise a hard limit, strata's can,
// as docker's runtime sets them before it drops capabilities. Set any
// earlier, a low limit (nofile=5, data=1m) failed the init's own mounts or
// crashed its Go runtime. syscall's Setrlimit, not x/sys's: it also tells
// Go's fork (Init's tiny pid 1) not to restore the soft nofile limit the
// init started with.
func limitSelf(rls []Rlimit) error {
	for _, r := range rls {
		if err := syscall.Setrlimit(r.Resource, &syscall.Rlimit{Cur: r.Soft, Max: r.Hard}); err != nil {
			return fmt.Errorf("--ulimit %s: %w", r.Name, err)
		}
	}
	return nil
}
