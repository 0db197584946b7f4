package main

import (
	"embed"
	"io"
	"io/fs"
	"os"

	"github.com/strata-sh/strata/exec"
)

// initFiles holds strata-init when the Makefile built it (see initbin/README).
//
//go:embed initbin
var initFiles embed.FS

const initName = "initbin/strata-init"

// useEmbeddedInit makes containers start from the embedded small init.
func useEmbeddedInit() {
	// Tests built by go test are dynamic binaries; strata exec needs a
	// static init, which they build and name here.
	if p := os.Getenv("STRATA_TEST_INIT_BINARY"); p != "" {
		exec.SetInitBinary(func() (io.Reader, error) { return os.Open(p) })
		return
	}
	if fi, err := fs.Stat(initFiles, initName); err != nil || fi.Size() == 0 {
		return
	}
	exec.SetInitBinary(func() (io.Reader, error) { return initFiles.Open(initName) })
}
