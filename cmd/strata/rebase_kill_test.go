package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strata-sh/strata/internal/testrootfs"
)

// fiveCommitRebase makes a repository whose branch app has 5 commits
// on main's parent, and main one commit more; HEAD is app. Commit
// conflictAt (0-4; -1: none) conflicts with main's.
func fiveCommitRebase(t *testing.T, conflictAt int) (dir, orig string) {
	src := t.TempDir()
	if err := testrootfs.BuildBusybox(src); err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	// Last, whatever strata umount left: a switch killed mid-way mounts
	// upper.next beneath rootfs, and a failed umount would leave it.
	t.Cleanup(func() { unmountUnder(dir) })
	t.Cleanup(func() { strataCmd(dir, "umount").Run() })
	root := filepath.Join(dir, "rootfs")
	mustStrata(t, dir, "init")
	mustStrata(t, dir, "import", src, "-m", "busybox")
	mustStrata(t, dir, "checkout", "main")
	mustStrata(t, dir, "checkout", "-b", "app")
	for i := range 5 {
		if err := os.WriteFile(filepath.Join(root, "etc", fmt.Sprintf("app%d", i)), []byte(fmt.Sprint(i)), 0o644); err != nil {
			t.Fatal(err)
		}
		if i == conflictAt {
			// main adds the same file, differently.
			if err := os.WriteFile(filepath.Join(root, "etc", "patched"), []byte("app\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		mustStrata(t, dir, "commit", "-m", fmt.Sprint("app ", i))
	}
	orig = head(t, dir)
	mustStrata(t, dir, "checkout", "main")
	if err := os.WriteFile(filepath.Join(root, "etc", "patched"), []byte("yes"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustStrata(t, dir, "commit", "-m", "patched")
	mustStrata(t, dir, "checkout", "app")
	return dir, orig
}

// TestRebaseKilledAtEveryStep kills a 5-commit rebase at every step (a
// test hook stops it there, then SIGKILL): fsck is clean each time, gc
// keeps what the interrupted rebase made, and
// from each point 'rebase --abort' puts back HEAD, reflog and work tree
// exactly, and 'rebase --continue' ends where an uninterrupted rebase does.
func TestRebaseKilledAtEveryStep(t *testing.T) {
	dir, orig := fiveCommitRebase(t, -1)
	root := filepath.Join(dir, "rootfs")
	// The uninterrupted rebase: where every continued one must end.
	mustStrata(t, dir, "rebase", "main")
	want := head(t, dir)
	mustStrata(t, dir, "reset", "--hard", orig)

	points := []string{"rebase-start", "rebase-step-1", "rebase-step-2", "rebase-step-3", "rebase-step-4",
		"rebase-step-5", "rebase-before-ref", "rebase-after-ref"}
	for _, p := range points {
		for _, end := range []string{"--abort", "--continue"} {
			reflog := mustStrata(t, dir, "reflog")
			killAt(t, dir, p, "rebase", "main")
			fsckClean(t, dir)
			// gc meanwhile keeps what the sequence names.
			mustStrata(t, dir, "gc", "--prune=now")
			out := mustStrata(t, dir, "status")
			if !strings.Contains(out, "You are in the middle of a rebase") {
				t.Fatalf("killed at %s: status does not show the rebase:\n%s", p, out)
			}
			mustStrata(t, dir, "rebase", end)
			fsckClean(t, dir)
			if out := mustStrata(t, dir, "status"); !strings.Contains(out, "nothing to commit") || strings.Contains(out, "middle of") {
				t.Fatalf("killed at %s, then %s: status:\n%s", p, end, out)
			}
			_, patchedErr := os.Stat(filepath.Join(root, "etc", "patched"))
			switch end {
			case "--abort":
				if got := head(t, dir); got != orig {
					t.Fatalf("killed at %s, aborted: HEAD %s, want %s", p, got, orig)
				}
				if got := mustStrata(t, dir, "reflog"); got != reflog {
					t.Fatalf("killed at %s, aborted: reflog\n%s\nwant\n%s", p, got, reflog)
				}
				if patchedErr == nil {
					t.Fatalf("killed at %s, aborted: the work tree shows the new base", p)
				}
			default:
				if got := head(t, dir); got != want {
					t.Fatalf("killed at %s, continued: HEAD %s, want %s", p, got, want)
				}
				if patchedErr != nil {
					t.Fatalf("killed at %s, continued: the work tree lacks the new base: %v", p, patchedErr)
				}
				mustStrata(t, dir, "reset", "--hard", orig)
			}
			if _, err := os.Stat(filepath.Join(root, "etc", "app4")); err != nil {
				t.Fatalf("killed at %s, then %s: the work tree lost the branch's files: %v", p, end, err)
			}
		}
	}
}

// killAt runs strata ARGS until it reaches the test hook point, then
// SIGKILLs it.
func killAt(t *testing.T, dir, point string, args ...string) {
	t.Helper()
	hooked := filepath.Join(t.TempDir(), "hooked")
	cmd := strataCmd(dir, args...)
	cmd.Env = append(cmd.Env, "STRATA_TEST_HOOK="+point+":"+hooked)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(hooked); err == nil {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("strata %s ended (%v) before reaching %s", strings.Join(args, " "), err, point)
		default:
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("strata %s never reached %s", strings.Join(args, " "), point)
		}
	}
	cmd.Process.Kill()
	<-done
}

// head is HEAD's commit id, in full.
func head(t *testing.T, dir string) string {
	t.Helper()
	out := mustStrata(t, dir, "show", "--format", "json")
	id := firstID(out)
	if id == "" {
		t.Fatalf("no id in %s", out)
	}
	return id
}

// TestRebaseKilledThenGC: commits an interrupted rebase made are named by
// its sequence file alone (no ref, no reflog entry); gc keeps them, and
// --continue ends the rebase.
func TestRebaseKilledThenGC(t *testing.T) {
	dir, _ := fiveCommitRebase(t, -1)
	killAt(t, dir, "rebase-before-ref", "rebase", "main")
	mustStrata(t, dir, "gc", "--prune=now")
	fsckClean(t, dir)
	mustStrata(t, dir, "rebase", "--continue")
	fsckClean(t, dir)
	if _, err := os.Stat(filepath.Join(dir, "rootfs", "etc", "patched")); err != nil {
		t.Fatalf("the rebased work tree lacks the new base: %v", err)
	}
}

// TestRebaseKilledWhileStopping kills a rebase after it recorded a
// conflict but before the work tree shows it: --continue puts the
// conflict in the work tree again (and stops), --abort goes back.
func TestRebaseKilledWhileStopping(t *testing.T) {
	dir, orig := fiveCommitRebase(t, 2)
	for _, end := range []string{"--continue", "--abort"} {
		killAt(t, dir, "rebase-stop", "rebase", "main")
		fsckClean(t, dir)
		out, err := strataCmd(dir, "rebase", end).CombinedOutput()
		if end == "--abort" {
			if err != nil {
				t.Fatalf("rebase --abort: %v\n%s", err, out)
			}
			if got := head(t, dir); got != orig {
				t.Fatalf("aborted: HEAD %s, want %s", got, orig)
			}
			continue
		}
		if err == nil || !strings.Contains(string(out), "CONFLICT (both added): /etc/patched") {
			t.Fatalf("rebase --continue after the kill: %v\n%s", err, out)
		}
		b, err := os.ReadFile(filepath.Join(dir, "rootfs", "etc", "patched"))
		if err != nil || !strings.Contains(string(b), "<<<<<<< HEAD") {
			t.Fatalf("the work tree lacks the conflict: %q %v", b, err)
		}
		mustStrata(t, dir, "rebase", "--abort")
		fsckClean(t, dir)
	}
}
