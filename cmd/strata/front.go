//go:build strata_front

package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/strata-sh/strata/cmd/strata/internal/handover"
)

// The front build (make build: -tags strata_front, installed as strata)
// holds the commands that work on the local repository and run
// containers. It leaves out the registry client and the Dockerfile parser
// (push, pull, fetch, clone, login, logout, remote, export, build) and the docs
// generator: their dependencies, net/http, TLS, protobuf and buildkit
// among them, take longer to initialise at every start than a container
// takes to run. Whatever the front has no command for, help, completion
// and docs included, it hands to the full build, installed beside it as
// strata-full, by exec: the same process, arguments, environment and
// descriptors, so the user sees one program. Most of them are handed
// over before the front has initialised (package handover); what is left
// comes here, with the error should the exec fail.

func init() { handOver = execFull }

// execFull replaces this process with the full build, running args.
// It returns only on failure.
func execFull(args []string, stderr io.Writer) int {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "strata: cannot find strata's own path: %v\n", err)
		return exitError
	}
	// os.Executable reads /proc/self/exe: symlinks are resolved, so a
	// link to strata in another directory still finds strata-full.
	full := filepath.Join(filepath.Dir(self), handover.FullName)
	if handover.HandedOver() {
		fmt.Fprintf(stderr, "strata: %s is not strata's full build (reinstall strata: make install)\n", full)
		return exitError
	}
	mark, ok := handover.Mark()
	if !ok {
		fmt.Fprintf(stderr, "strata: cannot run %s: /proc/self/stat does not tell this process's start\n", full)
		return exitError
	}
	argv := append([]string{os.Args[0]}, args...)
	err = unix.Exec(full, argv, handover.Env(os.Environ(), mark))
	fmt.Fprintf(stderr, "strata: cannot run %s: %v (it holds the commands this build leaves out; reinstall strata: make install)\n", full, err)
	return exitError
}
