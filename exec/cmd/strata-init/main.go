// Command strata-init is the container init of package exec alone, without
// the rest of strata. The strata binary embeds it (see the Makefile) and
// runs containers from a sealed copy of it: a small binary starts in a
// fraction of the time, and is cheaper to copy for every container.
package main

import (
	"os"

	"github.com/strata-sh/strata/exec"
)

func main() {
	exec.Reexec()
	os.Stderr.WriteString("strata-init: run by strata only\n")
	os.Exit(exec.CodeRuntime)
}
