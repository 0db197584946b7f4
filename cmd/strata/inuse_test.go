package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMountSwapsRefuseWhileAContainerRuns: checkout, reset, umount and pull
// must not pull the work tree's mount from under a running container.
func TestMountSwapsRefuseWhileAContainerRuns(t *testing.T) {
	dir := busyboxRepo(t)
	base := filepath.Dir(dir)
	mustStrata(t, dir, "branch", "other")
	mustStrata(t, dir, "checkout", "main")
	if err := os.WriteFile(filepath.Join(dir, "rootfs", "f"), []byte("two\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustStrata(t, dir, "commit", "-m", "two")
	// A remote whose main is one commit ahead: pull would fast-forward
	// the work tree.
	mustStrata(t, dir, "checkout", "-b", "ahead")
	if err := os.WriteFile(filepath.Join(dir, "rootfs", "g"), []byte("ahead\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustStrata(t, dir, "commit", "-m", "ahead")
	mustStrata(t, dir, "remote", "add", "up", filepath.Join(base, "up"))
	mustStrata(t, dir, "push", "up", "ahead:main")
	mustStrata(t, dir, "checkout", "main")
	mainBefore := mustStrata(t, dir, "rev-parse", "main")

	run := strataCmd(dir, "run", "--", "sh", "-c", "touch /ready; exec sleep 60")
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { run.Process.Kill(); run.Wait() })
	ready := filepath.Join(dir, "rootfs", "ready")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(ready); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the container never started")
		}
	}

	for _, args := range [][]string{
		{"checkout", "--detach", "other"},
		{"reset", "--hard", "HEAD"},
		{"umount"},
		{"pull", "up", "main"},
	} {
		out, err := strataCmd(dir, args...).CombinedOutput()
		if err == nil {
			t.Fatalf("strata %s succeeded while a container runs in the work tree", strings.Join(args, " "))
		}
		verb := args[0]
		if verb == "pull" {
			verb = strings.Join(args, " ") // pull names what it pulls, as its other errors do
		}
		msg := strings.TrimSpace(string(out))
		if strings.Count(msg, "\n") != 0 || !strings.HasPrefix(msg, "strata: "+verb+": a container is running in the work tree") || !strings.Contains(msg, "--force") {
			t.Fatalf("strata %s: want one line naming the running container and --force, got:\n%s", strings.Join(args, " "), msg)
		}
	}
	if got := mustStrata(t, dir, "rev-parse", "main"); got != mainBefore {
		t.Fatalf("the refused pull moved main from %s to %s", mainBefore, got)
	}
	// Refused commands changed nothing: the container's file is still seen.
	if _, err := os.Stat(ready); err != nil {
		t.Fatalf("the work tree changed under the container: %v", err)
	}
	// Status works meanwhile, and commit freezes the container while it
	// reads the upper: stopped at a hook inside the commit, the container's
	// freezer says FROZEN; after the commit it runs again.
	mustStrata(t, dir, "status")
	runs, err := os.ReadDir(filepath.Join(dir, ".strata", "worktree", "runs"))
	if err != nil || len(runs) != 1 {
		t.Fatalf("run records: %v, %v; want one", runs, err)
	}
	freezer, _ := filepath.Glob("/sys/fs/cgroup/freezer/strata-*-" + runs[0].Name() + "/freezer.state")
	if len(freezer) != 1 {
		t.Fatalf("freezer of %s: %v", runs[0].Name(), freezer)
	}
	hooked := filepath.Join(base, "hooked")
	commit := strataCmd(dir, "commit", "--allow-empty", "-m", "under a running container")
	commit.Env = append(commit.Env, "STRATA_TEST_HOOK=commit-before-ref:"+hooked)
	if err := commit.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { commit.Process.Kill(); commit.Wait() })
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(hooked); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the commit never reached its hook")
		}
	}
	if b, _ := os.ReadFile(freezer[0]); strings.TrimSpace(string(b)) != "FROZEN" {
		t.Fatalf("during commit the container's freezer says %q, want FROZEN", b)
	}
	commit.Process.Kill()
	commit.Wait()
	// A commit that completes thaws the container.
	mustStrata(t, dir, "commit", "--allow-empty", "-m", "under a running container")
	if b, _ := os.ReadFile(freezer[0]); strings.TrimSpace(string(b)) != "THAWED" {
		t.Fatalf("after commit the container's freezer says %q, want THAWED", b)
	}

	run.Process.Kill()
	run.Wait()
	// The container dies of its parent-death signal, a moment after strata:
	// until then it still uses the tree, as reset would rightly say.
	tasks := filepath.Join(filepath.Dir(freezer[0]), "tasks")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if b, err := os.ReadFile(tasks); err != nil || len(bytes.TrimSpace(b)) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the container outlived its killed run by 30 s")
		}
	}
	// Once the run is gone (even killed), its record is stale and ignored.
	mustStrata(t, dir, "reset", "--hard", "HEAD")
	mustStrata(t, dir, "checkout", "other")
	if _, err := os.Stat(filepath.Join(dir, "rootfs", "f")); !os.IsNotExist(err) {
		t.Fatalf("checkout other after the run: rootfs/f: %v, want gone", err)
	}
}

// mustStrata runs strata with args in dir, as a user does (strataCmd),
// and returns what it printed; a failure fails the test.
func mustStrata(t testing.TB, dir string, args ...string) string {
	t.Helper()
	out, err := strataCmd(dir, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("strata %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}
