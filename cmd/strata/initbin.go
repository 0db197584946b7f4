package main

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"strings"
	"testing"

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
	// static init, which they build and name here. Only a test binary
	// reads it: the init is what confines a container, and no variable
	// in root's environment may choose it for strata itself.
	if p := os.Getenv("STRATA_TEST_INIT_BINARY"); p != "" && testing.Testing() {
		exec.SetInitBinary(func() (io.Reader, error) { return os.Open(p) })
		if f, err := os.Open(p); err == nil {
			h := sha256.New()
			if _, err := io.Copy(h, f); err == nil {
				exec.SetInitDigest(hex.EncodeToString(h.Sum(nil)))
			}
			f.Close()
		}
		return
	}
	if fi, err := fs.Stat(initFiles, initName); err != nil || fi.Size() == 0 {
		return
	}
	exec.SetInitBinary(func() (io.Reader, error) { return initFiles.Open(initName) })
	// The Makefile records the digest next to the binary: hashing 2 MB at
	// every start would cost more than the copy it saves.
	if d, err := fs.ReadFile(initFiles, initName+".sha256"); err == nil {
		exec.SetInitDigest(strings.TrimSpace(string(d)))
	}
}
