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
