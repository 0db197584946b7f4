package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/strata-sh/strata/repo"
)

// TestPsListsServicesOnce: ps finishes cut-short removals and lists the
// runs from one listing of .strata/services. Before, it read the
// directory twice (finishRemovals, then listSvcs). Counted by strace:
// every open of the directory itself, under its exact name.
func TestPsListsServicesOnce(t *testing.T) {
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Fatalf("strace (Makefile's TEST_PKGS): %v", err)
	}
	dir := t.TempDir()
	r, err := repo.Init(dir, "main")
	if err != nil {
		t.Fatal(err)
	}
	services := servicesDir(r)
	if err := os.MkdirAll(filepath.Join(services, "web"), 0o700); err != nil {
		t.Fatal(err)
	}
	trace := filepath.Join(t.TempDir(), "trace")
	cmd := strataCmd(dir, "ps", "-a")
	cmd.Args = append([]string{strace, "-f", "-qq", "-e", "trace=open,openat,openat2", "-o", trace}, cmd.Args...)
	cmd.Path = strace
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("strace strata ps -a: %v\n%s", err, out)
	}
	b, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), strconv.Quote(services)+","); n != 1 {
		t.Errorf("ps -a opened %s %d times, want once:\n%s", services, n, b)
	}
}
