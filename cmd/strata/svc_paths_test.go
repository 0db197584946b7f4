package main

import (
	"os"
	"testing"
)

// The supervisor's own check, for the race its parent's cannot see: a
// link put in the way between the parent's open and the child's chdir
// leaves the child in another directory than the one opened.
func TestSupervisorStartsOnlyInTheDirectoryOpened(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	f, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	id, err := fileID(f)
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(other)
	t.Setenv(envSuperviseDir, id)
	if err := checkSupervisorDir(); err != nil {
		t.Fatalf("a command that is no supervisor took the variable its shell passed on: %v", err)
	}
	t.Setenv(envSupervise, "web")
	t.Setenv(envSuperviseDir, id)
	if err := checkSupervisorDir(); err == nil {
		t.Fatal("a supervisor in another directory than the one opened was let start")
	}
	t.Chdir(dir)
	t.Setenv(envSuperviseDir, id)
	if err := checkSupervisorDir(); err != nil {
		t.Fatalf("in the directory opened: %v", err)
	}
}
