package exec

import (
	"os"
	"runtime"
)

// In an init, keep the main goroutine on the main thread from the start:
// the parent-death signal and the credentials that execve carries over
// belong to that thread, and every per-thread step (capabilities, seccomp,
// the cgroup namespace) must happen on the thread that calls execve.
func init() {
	if m := os.Getenv(envMode); (m == "init" || m == "join" || m == "joinfd") && startedByStrata() {
		runtime.LockOSThread()
	}
}

// Reexec must be called first thing in main (and in TestMain of tests that
// call Run). In a process that Run started as a container init or watchdog
// it does that job and never returns; everywhere else it returns at once.
// ModeVar in the environment of a process strata did not start for itself
// (see StartedByStrata) is removed and changes nothing.
func Reexec() {
	mode := os.Getenv(envMode)
	if mode == "" {
		return
	}
	os.Unsetenv(envMode)
	if !StartedByStrata() {
		return
	}
	switch mode {
	case "init":
		containerInit()
	case "watchdog":
		watchdog()
	case "joincg":
		joinCgroups()
	case "join":
		joinedInit(false)
	case "joinfd":
		joinedInit(true)
	case "limited":
		limitedExec()
	}
	os.Exit(CodeRuntime)
}
