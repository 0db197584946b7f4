//go:build !strata_front

package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBuildTagRacesToTheSameCommit: two builds of one recipe with -t the
// same new branch, the second ending while the first runs. Both built the
// same commit (SOURCE_DATE_EPOCH), so the branch is where the first wants
// it: it succeeds. Before the fix it failed with "race did not move:
// race: already exists".
func TestBuildTagRacesToTheSameCommit(t *testing.T) {
	dir := busyboxRepo(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// The first build's RUN holds the connection open until the test
	// closes it; the second's finds it closed at once. Neither writes a
	// file, so both RUNs make the same commit.
	ctx := t.TempDir()
	recipe := fmt.Sprintf("FROM main\nRUN echo ready; nc %s </dev/null; true\n", strings.Replace(ln.Addr().String(), ":", " ", 1))
	if err := os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte(recipe), 0o644); err != nil {
		t.Fatal(err)
	}
	first, lines, stderr := startInterruptible(t, dir, nil, "build", "--network", "host", "-t", "race", ctx)
	for lines.Scan() && lines.Text() != "ready" {
	}
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	second := mustStrata(t, dir, "build", "-q", "--network", "host", "-t", "race", ctx)
	conn.Close()
	for lines.Scan() {
	}
	if code := exitStatus(t, first); code != 0 {
		t.Fatalf("the first build: exit %d: %s", code, stderr)
	}
	if got := strings.TrimSpace(mustStrata(t, dir, "rev-parse", "race")); got != strings.TrimSpace(second) {
		t.Fatalf("race at %s, want %s", got, second)
	}
}

// TestBuildRacesASwappingContainer builds with a context in the work tree
// (rootfs/race/d, a directory) while a container swaps it with a symbolic
// link to a host directory holding a canary (/race/s). The context is
// resolved in the tree and opened once; whatever instant each build
// catches, its COPY takes the container's files or the build fails, and
// no commit ever holds the host's.
func TestBuildRacesASwappingContainer(t *testing.T) {
	dir, work, canary := swapperRepo(t)
	race := filepath.Join(work, "race")
	if err := os.MkdirAll(filepath.Join(race, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(race, "d", "inside"), nil, 0o644)
	if err := os.Symlink(canary, filepath.Join(race, "s")); err != nil {
		t.Fatal(err)
	}
	// The recipe is the host's: the context is all the race has.
	recipe := filepath.Join(t.TempDir(), "Dockerfile")
	os.WriteFile(recipe, []byte("FROM main\nRUN true\nCOPY . /ctx/\n"), 0o644)

	startSwapper(t, dir, race)
	built := 0
	for round := 0; round < 60; round++ {
		out, err := strataCmd(dir, "build", "--no-cache", "-q", "-f", recipe, filepath.Join(race, "d")).CombinedOutput()
		if err != nil {
			continue // the context led to nothing in the tree, or was swapped
		}
		built++
		id := strings.TrimSpace(string(out))
		if ls := mustStrata(t, dir, "show", id+":/ctx"); strings.Contains(ls, "CANARY") {
			t.Fatalf("round %d: the build copied the host directory:\n%s", round, ls)
		}
	}
	if built == 0 {
		t.Fatal("no build ran to its COPY: the race was never run")
	}
	t.Logf("%d of 60 builds ran", built)
}
