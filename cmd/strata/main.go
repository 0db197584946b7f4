// Command strata is git for container environments: it imports root
// filesystems, checks them out as overlay mounts, commits, branches, diffs
// and pushes them as OCI images, and runs them confined.
package main

import (
	"os"
	"strings"
	"syscall"

	"github.com/strata-sh/strata/cmd/strata/internal/handover"
	"github.com/strata-sh/strata/internal/memlimit"

	"github.com/strata-sh/strata/exec"
)

func main() {
	// The container init and its watchdog are this same binary: they take
	// over here, before any command is parsed.
	exec.Reexec()
	os.Exit(Main())
}

// Main runs strata with os.Args and returns the exit code. It is separate
// from main so that testscript can run strata in-process.
func Main() int {
	dropHandOvers()
	memlimit.Apply()
	useEmbeddedInit()
	if handOver == nil {
		// The full build, perhaps exec'd by the front: its mark has served.
		// What this strata starts (a credential helper, a merge driver)
		// may run strata again, whose front must hand over once more.
		os.Unsetenv(handover.HandedOverVar)
	}
	if runsContainer(os.Args[1:]) {
		// Before the commands are even built: the runtime's preparation
		// overlaps with parsing and with opening the repository.
		exec.Prewarm()
	}
	return run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
}

// dropHandOvers removes strata's own hand-over variables (_STRATA_*:
// _STRATA_SUPERVISE, _STRATA_ATTACH_FIRST, ...) from the environment of
// a strata that strata did not start for itself (exec.StartedByStrata):
// they are what a parent strata tells a supervisor or exec -d's waiter,
// and in a user's shell (exported, inherited from a container or a CI)
// they would steer what the user typed.
func dropHandOvers() {
	if exec.StartedByStrata() {
		// Its pipe is for it alone, not for what it runs.
		syscall.CloseOnExec(3)
		return
	}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "_STRATA_") {
			os.Unsetenv(k)
		}
	}
}

// runsContainer reports whether args name the run command, after the
// global flags (-C DIR, --chdir DIR, --verbose).
func runsContainer(args []string) bool { return handover.CommandWord(args) == "run" }
