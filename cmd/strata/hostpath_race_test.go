//go:build !strata_front

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// raceDirs makes the swapper's /race in work: d, a directory, and s, a
// symbolic link to the host directory canary; it returns /race.
func raceDirs(t *testing.T, work, canary string) string {
	t.Helper()
	race := filepath.Join(work, "race")
	if err := os.MkdirAll(filepath.Join(race, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(canary, filepath.Join(race, "s")); err != nil {
		t.Fatal(err)
	}
	return race
}

// checkCanary fails the test unless the host directory canary holds only
// the files named in want, as they were.
func checkCanary(t *testing.T, canary string, round int, want map[string]string) {
	t.Helper()
	ents, err := os.ReadDir(canary)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(canary, e.Name()))
		if _, ok := want[e.Name()]; !ok || err != nil || string(b) != want[e.Name()] {
			t.Fatalf("round %d: the host directory was written: %s (%q, %v)", round, e.Name(), b, err)
		}
	}
}

// TestPushRacesASwappingContainer pushes to a layout directory in the work
// tree (/race/d) while a container swaps it with a symbolic link to a host
// directory (/race/s). The layout is resolved in the tree and opened
// once: whatever instant each push catches, it writes the container's
// directory or fails, never the host's.
func TestPushRacesASwappingContainer(t *testing.T) {
	dir, work, canary := swapperRepo(t)
	race := raceDirs(t, work, canary)
	startSwapper(t, dir, race)
	pushed := 0
	for round := 0; round < 100; round++ {
		if err := strataCmd(dir, "push", filepath.Join(race, "d"), fmt.Sprintf("main:r%d", round)).Run(); err == nil {
			pushed++
		}
		checkCanary(t, canary, round, map[string]string{"CANARY": "host secret\n"})
	}
	if pushed == 0 {
		t.Fatal("no push ran: the race was never run")
	}
	t.Logf("%d of 100 pushes ran", pushed)
}
