package worktree

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// A second work tree directly in a directory of the system (/home, /srv,
// /opt: one right under /) is refused: closing it (mode 0700) would shut
// every other user and service out of it. Nothing is changed. The test's
// own top-level directory stands in for /srv, so that a failure closes
// nothing of the machine's.
func TestSecondTreeInASystemDirectoryIsRefused(t *testing.T) {
	requireRoot(t)
	r := newRepo(t)
	sys, err := os.MkdirTemp("/", "strata-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sys) })
	if err := os.Chmod(sys, 0o755); err != nil {
		t.Fatal(err)
	}
	w := &Worktree{Repo: r, Name: "env2", target: filepath.Join(sys, "env2")}
	if err := w.closeParent(); !errors.Is(err, ErrBadTarget) {
		t.Fatalf("closeParent of a tree in %s: %v, want ErrBadTarget", sys, err)
	}
	if fi, err := os.Stat(sys); err != nil || fi.Mode().Perm() != 0o755 {
		t.Fatalf("%s: %v, %v; want it left 0755", sys, fi.Mode(), err)
	}
	// One level down, a directory made for work trees is closed.
	envs := filepath.Join(sys, "envs")
	if err := os.Mkdir(envs, 0o755); err != nil {
		t.Fatal(err)
	}
	w.target = filepath.Join(envs, "env2")
	if err := w.closeParent(); err != nil {
		t.Fatalf("closeParent of a tree in %s: %v", envs, err)
	}
	if fi, _ := os.Stat(envs); fi.Mode().Perm() != 0o700 {
		t.Fatalf("%s is %v, want 0700", envs, fi.Mode().Perm())
	}
	// The main tree's is the project's own directory, wherever it is.
	m := &Worktree{Repo: r, Name: MainName, target: filepath.Join(sys, "rootfs")}
	if err := m.closeParent(); err != nil {
		t.Fatalf("closeParent of the main tree: %v", err)
	}
}
