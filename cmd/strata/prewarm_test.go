package main

import (
	"strings"
	"testing"
)

// TestRunsContainer: the runtime is prewarmed for run alone, found after
// the global flags however they are written.
func TestRunsContainer(t *testing.T) {
	for args, want := range map[string]bool{
		"run -- /bin/true":            true,
		"-C /r run --network host ls": true,
		"-C/r run":                    true,
		"--chdir /r --verbose run":    true,
		"--chdir=/r run":              true,
		"--verbose=true run":          true,
		"":                            false,
		"version":                     false,
		"-C run status":               false, // run is -C's value
		"log run":                     false,
		"svc run":                     false,
		"--chdir /r commit -m run":    false,
	} {
		if got := runsContainer(strings.Fields(args)); got != want {
			t.Errorf("runsContainer(%q) = %v, want %v", args, got, want)
		}
	}
}
