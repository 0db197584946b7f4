//go:build !strata_front

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestInterruptedBuildStopsItsRun: SIGTERM or Ctrl-C during a RUN whose
// command is its container's pid 1 (which ignores both) stops the build
// once the RUN's stop timeout has passed, with "interrupted" and 143,
// leaving no mount and no staging directory. Before the fix the build
// waited for the command to end.
func TestInterruptedBuildStopsItsRun(t *testing.T) {
	dir := busyboxRepo(t)
	ctx := t.TempDir()
	recipe := "FROM main\nRUN echo ready; exec sleep 60\n"
	if err := os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte(recipe), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd, lines, stderr := startInterruptible(t, dir, nil, "build", ctx)
	for lines.Scan() && lines.Text() != "ready" {
	}
	interruptedExit(t, cmd, stderr, syscall.SIGTERM, "strata: build: Dockerfile:2: step 2: RUN echo ready; exec sleep 60: interrupted")
	mounts, _ := os.ReadFile("/proc/mounts")
	if strings.Contains(string(mounts), dir) {
		t.Errorf("a mount is left under %s", dir)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".strata/tmp/build-*")); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}
