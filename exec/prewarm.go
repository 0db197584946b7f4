//go:build !strata_init

package exec

import (
	"os"
	"sync"
)

// Prewarm starts, in the background, the work every Run of this process
// needs whatever its spec: the sealed copy of the init binary, the seccomp
// program for the default capabilities and the sweep of leftovers of dead
// runs. A command that is about to call Run calls it first, so that this
// work overlaps with its own (parsing, opening a repository). Run does the
// same work itself when Prewarm was not called. Call it after
// SetInitBinary; calls after the first do nothing.
func Prewarm() { prewarmOnce.Do(prewarm) }

var prewarmOnce sync.Once

// prewarm does it all on one goroutine, in the order Run needs it: the
// caller keeps the other CPU to itself.
func prewarm() {
	done := make(chan struct{})
	claimed := false
	sweep.once.Do(func() { sweep.done, claimed = done, true })
	go func() {
		if !directUsable(&Spec{}) {
			initExe(false) // the default capabilities; a direct start needs it only for a watchdog, later
		}
		// os/exec probes once per process whether pidfds work, by
		// forking a child that exits at once, in the first Start:
		// FindProcess runs that probe here instead.
		if p, err := os.FindProcess(os.Getpid()); err == nil {
			p.Release()
		}
		if caps, err := capSet(false, nil, nil); err == nil {
			seccompBytes(caps)
		}
		if claimed {
			sweepLeftovers()
			close(done)
		}
	}()
}

var sweep struct {
	once sync.Once
	done chan struct{}
}

// sweepStarted starts sweepLeftovers once per process, on its own
// goroutine, and returns a channel closed when it is done. It touches only
// cgroups and directories of runs whose process is gone, never those of a
// live one, so it may run next to a starting container.
func sweepStarted() <-chan struct{} {
	sweep.once.Do(func() {
		sweep.done = make(chan struct{})
		go func() {
			defer close(sweep.done)
			sweepLeftovers()
		}()
	})
	return sweep.done
}
