// Command strata-exec-bench runs one container with package exec, for
// benchmarks and demos until the strata CLI exists:
//
//	strata-exec-bench [-network none] [-memory BYTES] [-pids N] [-t] ROOT ARGS...
//
// It exits with the container's exit code (125/126/127 when it could not
// start, with the error on stderr).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/strata-sh/strata/exec"
)

func main() {
	exec.Reexec()
	network := flag.String("network", "host", "network mode: host or none")
	memory := flag.Int64("memory", 0, "memory limit in bytes")
	pids := flag.Int64("pids", 0, "pids limit")
	tty := flag.Bool("t", false, "allocate a terminal")
	flag.Parse()
	if flag.NArg() < 2 {
		fmt.Fprintln(os.Stderr, "usage: strata-exec-bench [flags] ROOT ARGS...")
		os.Exit(2)
	}
	code, err := exec.Run(context.Background(), exec.Spec{
		Root: flag.Arg(0), Args: flag.Args()[1:], Env: []string{"TERM=" + os.Getenv("TERM")},
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Terminal: *tty,
		Network: *network, Resources: exec.Resources{MemoryBytes: *memory, PidsLimit: *pids},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "strata-exec-bench:", err)
	}
	os.Exit(code)
}
