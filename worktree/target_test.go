package worktree

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// A state handed over may name a directory whose device and inode can
// be guessed (/ is inode 2 on ext4, on one of a few devices): the ids
// matching, checkTarget still refuses a place checkPlace never allows,
// the root above the project or the repository, where a mount would
// hide them, or the host. A run's own place in .strata is one.
func TestCheckTargetRefusesGuessedRoot(t *testing.T) {
	r := newRepo(t)
	w, err := Named(r, "wt")
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"/", r.Dir, r.Root} {
		id, err := dirID(target)
		if err != nil {
			t.Fatal(err)
		}
		err = w.checkTarget(State{Target: target, TargetID: id})
		if !errors.Is(err, ErrBadTarget) {
			t.Errorf("checkTarget(%s, its own id %s) = %v, want ErrBadTarget", target, id, err)
		}
	}
	run := filepath.Join(r.Objects.TempDir(), "run-1", "run-1")
	if err := os.MkdirAll(run, 0o755); err != nil {
		t.Fatal(err)
	}
	id, err := dirID(run)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.checkTarget(State{Target: run, TargetID: id}); err != nil {
		t.Errorf("checkTarget of a run's tree: %v", err)
	}
}
