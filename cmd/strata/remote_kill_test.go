package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strata-sh/strata/internal/testregistry"
)

// run strata (this test binary) in dir and fail the test on error.
func strataOK(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := strataCmd(dir, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("strata %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestKilledPushAndFetchThenRerun kills strata push and strata fetch
// against the real registry at several instants. After each kill the
// local repository is clean, and no ref (local or remote) names an
// incomplete commit; run again, each completes, and a clone has the same
// history.
func TestKilledPushAndFetchThenRerun(t *testing.T) {
	reg := testregistry.Start(t)
	url := reg.Repo("team/env")
	// 40 MB of random data: big enough to take a while to send.
	src := bigTree(t, 160, 256<<10)
	a := t.TempDir()
	strataOK(t, a, "init")
	strataOK(t, a, "import", src, "-m", "base")
	strataOK(t, a, "remote", "add", "origin", url)

	pushKilled := 0
	for _, d := range []time.Duration{30, 80, 200, 400} {
		if killAfter(t, strataCmd(a, "push", "-q", "origin", "main"), d*time.Millisecond) {
			pushKilled++
		}
		fsckClean(t, a)
		// Whatever the registry shows under the tag must be complete: a
		// fetch succeeds (with nothing, if the tag does not exist yet).
		probe := t.TempDir()
		strataOK(t, probe, "init")
		if out, err := strataCmd(probe, "fetch", url).CombinedOutput(); err != nil {
			t.Fatalf("the registry's tag names an incomplete commit after a killed push: %v\n%s", err, out)
		}
	}
	if pushKilled == 0 {
		t.Fatal("no push was interrupted: the test proves nothing")
	}
	strataOK(t, a, "push", "-q", "origin", "main")
	want := strataOK(t, a, "log", "--format", "json")

	b := t.TempDir()
	strataOK(t, b, "init")
	strataOK(t, b, "remote", "add", "origin", url)
	fetchKilled := 0
	for _, d := range []time.Duration{30, 80, 200} {
		if killAfter(t, strataCmd(b, "fetch", "-q", "origin"), d*time.Millisecond) {
			fetchKilled++
		}
		fsckClean(t, b)
		if _, err := os.Stat(filepath.Join(b, ".strata/refs/remotes/origin/main")); err == nil {
			strataOK(t, b, "log", "origin/main") // complete, or it would fail
		}
	}
	if fetchKilled == 0 {
		t.Fatal("no fetch was interrupted: the test proves nothing")
	}
	strataOK(t, b, "fetch", "-q", "origin")
	strataOK(t, b, "branch", "main", "origin/main")
	got := strataOK(t, b, "log", "main", "--format", "json")
	if firstID(got) != firstID(want) || firstID(got) == "" {
		t.Fatalf("history differs after the rerun:\n%s\nwant\n%s", got, want)
	}
	fsckClean(t, b)
	fmt.Fprintf(os.Stderr, "interrupted %d pushes and %d fetches\n", pushKilled, fetchKilled)
}
