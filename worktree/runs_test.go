package worktree

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestRunRegistry(t *testing.T) {
	w := Main(newRepo(t))
	if err := w.RefuseWhileRunning(); err != nil {
		t.Fatalf("no runs yet: %v", err)
	}
	release, err := w.RegisterRun("run-a", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.RegisterRun("run-a", ""); err == nil {
		t.Fatal("a second registration of the same id succeeded")
	}
	if _, err := w.RegisterRun("../escape", ""); err == nil {
		t.Fatal("an id with a slash was accepted")
	}
	ids, err := w.Runs()
	if err != nil || !reflect.DeepEqual(ids, []string{"run-a"}) {
		t.Fatalf("Runs = %v, %v; want [run-a]", ids, err)
	}
	if err := w.RefuseWhileRunning(); !errors.Is(err, ErrRunning) {
		t.Fatalf("RefuseWhileRunning = %v; want ErrRunning", err)
	}

	// A record whose holder died (its lock released) is stale: not listed,
	// and removed.
	stale := filepath.Join(w.runsDir(), "run-dead")
	f, err := os.Create(stale)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if ids, err := w.Runs(); err != nil || !reflect.DeepEqual(ids, []string{"run-a"}) {
		t.Fatalf("Runs with a stale record = %v, %v; want [run-a]", ids, err)
	}
	if _, err := os.Lstat(stale); !os.IsNotExist(err) {
		t.Fatalf("stale record not removed: %v", err)
	}

	release()
	if ids, err := w.Runs(); err != nil || len(ids) != 0 {
		t.Fatalf("Runs after release = %v, %v; want none", ids, err)
	}
}

// TestValidRunID: the loop accepts exactly [A-Za-z0-9][A-Za-z0-9_.-]{0,127}.
func TestValidRunID(t *testing.T) {
	long := "a" + strings.Repeat("b", 127)
	for id, want := range map[string]bool{
		"run-0a1b": true, "a": true, "Z9._-": true, long: true,
		"": false, long + "c": false, "-a": false, ".a": false, "_a": false,
		"a/b": false, "../escape": false, "a b": false, "a\x00": false, "é": false,
	} {
		if got := validRunID(id); got != want {
			t.Errorf("validRunID(%q) = %v, want %v", id, got, want)
		}
	}
}

// The error that refuses names the runs as the user knows them: a
// detached run by its name, not its container id.
func TestRefuseWhileRunningNamesTheRuns(t *testing.T) {
	w := Main(newRepo(t))
	release, err := w.RegisterRun("web-0c50e1da", "web")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	release2, err := w.RegisterRun("run-1a2b3c", "")
	if err != nil {
		t.Fatal(err)
	}
	defer release2()
	err = w.RefuseWhileRunning()
	if !errors.Is(err, ErrRunning) || !strings.Contains(err.Error(), "2 containers (run-1a2b3c, web);") {
		t.Fatalf("RefuseWhileRunning = %v; want the run named web and run-1a2b3c", err)
	}
	// What a record holds is printed only if a run could be named so.
	if err := os.WriteFile(filepath.Join(w.runsDir(), "web-0c50e1da"), []byte("x\033]0;owned\a"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := w.RefuseWhileRunning(); !strings.Contains(err.Error(), "(run-1a2b3c, web-0c50e1da);") {
		t.Fatalf("RefuseWhileRunning = %v; want the id for a name no run can have", err)
	}
}
