package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/strata-sh/strata/repo"
)

// show REV:DIR keeps the names right below DIR, not the whole tree
// below it: REV:/ of a deep tree once kept an entry for every file of
// the image (67 MB of peak RSS for 100,000 files) to print one name,
// usr/. Measured in bytes allocated, which the kept entries were.
func TestShowDirKeepsOnlyItsNames(t *testing.T) {
	src := t.TempDir()
	for d := range 200 {
		sub := filepath.Join(src, "usr", fmt.Sprintf("d%03d", d))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		for i := range 100 {
			if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%03d", i)), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	dir := t.TempDir()
	if out, err := strataCmd(dir, "init", "-q", "env").CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	env := filepath.Join(dir, "env")
	if out, err := strataCmd(env, "import", "-q", src).CombinedOutput(); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	r, err := repo.Open(env)
	if err != nil {
		t.Fatal(err)
	}
	// Bytes allocated by one show.
	allocs := func(arg string) uint64 {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		before := ms.TotalAlloc
		rev, p, _ := splitRevPath(arg)
		if err := showPath(io.Discard, r, arg, rev, p); err != nil {
			t.Fatalf("show %s: %v", arg, err)
		}
		runtime.ReadMemStats(&ms)
		return ms.TotalAlloc - before
	}
	small := allocs("main:/usr/d001")
	root := allocs("main:/")
	if root > 4*small+1<<20 {
		t.Errorf("show main:/ (1 name of 20,000 files) allocates %d bytes; main:/usr/d001 (100 names) %d", root, small)
	}
}
