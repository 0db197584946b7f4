// Command strata-seccomp-json prints the seccomp profile strata confines a
// container with (exec.DefaultSeccompJSON), as OCI linux.seccomp JSON, for
// benchmarks that hand it to other runtimes.
package main

import (
	"fmt"
	"os"

	"github.com/strata-sh/strata/exec"
)

func main() {
	b, err := exec.DefaultSeccompJSON()
	if err != nil {
		fmt.Fprintln(os.Stderr, "strata-seccomp-json:", err)
		os.Exit(1)
	}
	os.Stdout.Write(append(b, '\n'))
}
