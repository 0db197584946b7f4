package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestWorktreeScriptsInSpacedPath runs the work-tree stories again in a
// directory whose path holds a space: the kernel shows it escaped (\040)
// in mountinfo, mount points and overlay options alike; a merge driver's
// shell sees it too.
func TestWorktreeScriptsInSpacedPath(t *testing.T) {
	stories, err := filepath.Glob(filepath.Join("testdata", "script", "checkout_*.txtar"))
	if err != nil || len(stories) == 0 {
		t.Fatalf("no work-tree stories: %v", err)
	}
	// A merge driver's command line names files under the project.
	stories = append(stories, filepath.Join("testdata", "script", "merge_driver.txtar"))
	dir := t.TempDir()
	for _, s := range stories {
		b, err := os.ReadFile(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(s)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	root := filepath.Join(t.TempDir(), "my env")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	p := scriptParams(dir)
	p.WorkdirRoot = root
	testscript.Run(t, p)
}
