package main

import (
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/strata-sh/strata/repo"
)

// strataCmd runs this test binary as the strata command (see TestMain).
func strataCmd(dir string, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "STRATA_TEST_MAIN=1", "SOURCE_DATE_EPOCH=1700000000")
	return cmd
}

// bigTree writes n files of size bytes each (random, so zstd works hard).
func bigTree(t *testing.T, n, size int) string {
	t.Helper()
	dir := t.TempDir()
	buf := make([]byte, size)
	for i := 0; i < n; i++ {
		if _, err := rand.Read(buf); err != nil {
			t.Fatal(err)
		}
		sub := filepath.Join(dir, fmt.Sprintf("d%02d", i%10))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%04d", i)), buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// killAfter starts cmd, SIGKILLs it after d, and reports whether it was
// still running then.
func killAfter(t *testing.T, cmd *exec.Cmd, d time.Duration) bool {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(d)
	killed := cmd.Process.Signal(syscall.SIGKILL) == nil
	err := cmd.Wait()
	return killed && err != nil
}

// fsckClean runs strata fsck and fails the test on any problem.
func fsckClean(t *testing.T, dir string) {
	t.Helper()
	out, err := strataCmd(dir, "fsck").CombinedOutput()
	if err != nil {
		t.Fatalf("fsck after kill: %v\n%s", err, out)
	}
}

// TestKilledImportLeavesRepositoryClean kills imports at several moments:
// every ref must point at a complete commit and fsck must find nothing.
func TestKilledImportLeavesRepositoryClean(t *testing.T) {
	src := bigTree(t, 120, 256<<10)
	dir := t.TempDir()
	if _, err := repo.Init(dir, "main"); err != nil {
		t.Fatal(err)
	}
	if out, err := strataCmd(dir, "import", src, "-m", "first").CombinedOutput(); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	interrupted := 0
	for i, d := range []time.Duration{5, 20, 50, 100, 200, 400} {
		cmd := strataCmd(dir, "import", src, "-b", fmt.Sprintf("b%d", i), "-m", "killed")
		if killAfter(t, cmd, d*time.Millisecond) {
			interrupted++
		}
		fsckClean(t, dir)
	}
	if interrupted == 0 {
		t.Fatal("no import was interrupted: the tree is too small for this test to mean anything")
	}
	// A later import still works, and gc cleans what the killed ones left.
	if out, err := strataCmd(dir, "import", src, "-b", "after", "-m", "after").CombinedOutput(); err != nil {
		t.Fatalf("import after kills: %v\n%s", err, out)
	}
	if out, err := strataCmd(dir, "gc", "--prune=now").CombinedOutput(); err != nil {
		t.Fatalf("gc: %v\n%s", err, out)
	}
	fsckClean(t, dir)
	left, _ := os.ReadDir(filepath.Join(dir, ".strata", "tmp"))
	if len(left) != 0 {
		t.Fatalf("gc --prune=now left %d staged files", len(left))
	}
}

// TestKilledGCLeavesRepositoryClean kills gc while it removes thousands of
// unreachable blobs: what is reachable must all still be there.
func TestKilledGCLeavesRepositoryClean(t *testing.T) {
	src := bigTree(t, 20, 64<<10)
	dir := t.TempDir()
	r, err := repo.Init(dir, "main")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := strataCmd(dir, "import", src, "-m", "kept").CombinedOutput(); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	interrupted := 0
	for round, d := range []time.Duration{2, 10, 30} {
		for i := 0; i < 3000; i++ {
			if _, err := r.Objects.PutBytes("application/octet-stream", []byte(fmt.Sprintf("garbage %d %d", round, i))); err != nil {
				t.Fatal(err)
			}
		}
		if killAfter(t, strataCmd(dir, "gc", "--prune=now"), d*time.Millisecond) {
			interrupted++
		}
		fsckClean(t, dir)
		out, err := strataCmd(dir, "log", "--oneline").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "kept") {
			t.Fatalf("history after killed gc: %v\n%s", err, out)
		}
	}
	if interrupted == 0 {
		t.Fatal("no gc was interrupted")
	}
	// The next gc takes over the dead one's lock and finishes the job.
	if out, err := strataCmd(dir, "gc", "--prune=now").CombinedOutput(); err != nil {
		t.Fatalf("gc after kills: %v\n%s", err, out)
	}
	fsckClean(t, dir)
}
