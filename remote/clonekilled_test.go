package remote

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-sh/strata/internal/lockfile"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// TestCloneOverKilledClone: a clone killed with SIGKILL leaves its
// directory, with the repository and its lock file but no live holder. A
// clone into it again starts over, instead of refusing a directory that
// is not empty. A complete repository, other files, or a clone under way
// are still refused, and left as they were.
func TestCloneOverKilledClone(t *testing.T) {
	ctx := context.Background()
	url := filepath.Join(t.TempDir(), "layout")
	a := newRepo(t)
	tip := commitFile(t, a, "main", "etc/one", "1")
	if _, err := connect(t, a, "origin", url, Options{}).Push(ctx, a, refs.Heads+"main", PushOptions{}); err != nil {
		t.Fatal(err)
	}

	// What a killed clone leaves: an initialised repository, half
	// fetched, and the lock file.
	dir := filepath.Join(t.TempDir(), "b")
	if _, err := repo.Init(dir, "main"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, cloneLockName), []byte("4242 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, res, err := Clone(ctx, url+":main", dir, Options{})
	if err != nil {
		t.Fatalf("clone over a killed clone: %v", err)
	}
	if !res.Cleared || res.Commit != tip {
		t.Fatalf("clone: %+v, want Cleared at %s", res, tip)
	}
	checkFsck(t, b)
	if _, err := os.Lstat(filepath.Join(dir, cloneLockName)); !os.IsNotExist(err) {
		t.Fatalf("the lock file stays after a complete clone (%v)", err)
	}

	// Now a complete repository: refused, and kept.
	if _, _, err := Clone(ctx, url+":main", dir, Options{}); err == nil || !strings.Contains(err.Error(), "directory exists and is not empty") {
		t.Fatalf("clone over a complete repository: %v", err)
	}
	if got := mustRead(t, b, refs.Heads+"main"); got != tip {
		t.Fatalf("the refused clone changed main: %s", got)
	}

	// A killed clone's leftovers beside a file of the user's: refused.
	other := filepath.Join(t.TempDir(), "c")
	if _, err := repo.Init(other, "main"); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(other, cloneLockName), nil, 0o644)
	os.WriteFile(filepath.Join(other, "notes"), []byte("mine"), 0o644)
	if _, _, err := Clone(ctx, url+":main", other, Options{}); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("clone beside a user's file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(other, repo.DirName, "HEAD")); err != nil {
		t.Fatalf("the refused clone removed the repository: %v", err)
	}

	// A clone under way (its lock held): refused, its repository kept.
	live := filepath.Join(t.TempDir(), "d")
	if _, err := repo.Init(live, "main"); err != nil {
		t.Fatal(err)
	}
	l, err := lockfile.Try(filepath.Join(live, cloneLockName))
	if err != nil || l == nil {
		t.Fatalf("lock: %v", err)
	}
	defer l.Release()
	if _, _, err := Clone(ctx, url+":main", live, Options{}); err == nil || !strings.Contains(err.Error(), "another clone into it is under way") {
		t.Fatalf("clone beside a live clone: %v", err)
	}
	if _, err := os.Stat(filepath.Join(live, repo.DirName, "HEAD")); err != nil {
		t.Fatalf("the refused clone removed a live clone's repository: %v", err)
	}
}
