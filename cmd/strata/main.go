// Command strata is git for container environments: it imports root
// filesystems, checks them out as overlay mounts, commits, branches, diffs
// and pushes them as OCI images, and runs them confined.
package main

import (
	"os"

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
	useEmbeddedInit()
	return run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
}
