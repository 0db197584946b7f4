package main

import (
	"os"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/strata-sh/strata/internal/testregistry"
)

// startRegistry is the stories' "registry VAR": start the real registry
// (docker-registry) on a free loopback port, storing under the story's
// work directory, set $VAR to its host:port, and stop it when the story
// ends. A missing binary fails the story: a setup error, not a skip.
func startRegistry(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 || neg {
		ts.Fatalf("usage: registry VAR")
	}
	dir := ts.MkAbs(".registry")
	ts.Check(os.MkdirAll(dir, 0o755))
	r, err := testregistry.Launch(dir)
	ts.Check(err)
	ts.Defer(r.Stop)
	ts.Setenv(args[0], r.Host)
}
