package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/sys/mountinfo"
	"github.com/strata-sh/strata/internal/testrootfs"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// bisectRepo is busyboxRepo with n more commits on main, each adding /fI.
func bisectRepo(t *testing.T, n int) string {
	t.Helper()
	dir := busyboxRepo(t)
	for i := 1; i <= n; i++ {
		mustStrata(t, dir, "run", "--rev", "main", "--commit", "--message", fmt.Sprintf("c%d", i), "--", "touch", fmt.Sprintf("/f%d", i))
	}
	return dir
}

// bisectLeftovers lists throwaway trees, extra work trees and their reflogs.
// (run --rev --commit leaves its throwaway tree's reflog: compare with
// what was there before.)
func bisectLeftovers(dir string) map[string]bool {
	out := map[string]bool{}
	for _, glob := range []string{".strata/tmp/*", ".strata/worktrees/*", ".strata/logs/refs/worktrees/*"} {
		left, _ := filepath.Glob(filepath.Join(dir, glob))
		for _, l := range left {
			out[l] = true
		}
	}
	return out
}

// assertNothingLeft: no mount under dir, and no throwaway tree, extra work
// tree or worktree reflog that was not there before.
func assertNothingLeft(t *testing.T, dir string, before map[string]bool) {
	t.Helper()
	mounts, err := mountinfo.GetMounts(mountinfo.PrefixFilter(dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mounts {
		t.Errorf("left mounted: %s", m.Mountpoint)
	}
	for l := range bisectLeftovers(dir) {
		if !before[l] {
			t.Errorf("left behind: %s", l)
		}
	}
}

// TestBisectRunInterrupted: SIGINT during a test stops bisect run with an
// error (exit 130), marks nothing (even though the command then exits 0) and leaves
// no mount; a command that ignores SIGINT is killed by a second one.
func TestBisectRunInterrupted(t *testing.T) {
	dir := bisectRepo(t, 4)
	for _, c := range []struct {
		name, script string
		signals      int
	}{
		{"trapped", "trap 'echo bye; exit 0' INT; echo ready; while :; do sleep 0.05; done", 1},
		{"ignored", "trap '' INT; echo ready; while :; do sleep 0.05; done", 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			mustStrata(t, dir, "bisect", "start", "--no-checkout", "main", "main~4")
			t.Cleanup(func() { mustStrata(t, dir, "bisect", "reset") })
			before := bisectLeftovers(dir)
			cmd := strataCmd(dir, "bisect", "run", "--", "sh", "-c", c.script)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			lines := bufio.NewScanner(out)
			for lines.Scan() && lines.Text() != "ready" {
			}
			if lines.Text() != "ready" {
				t.Fatal("the test command never printed ready")
			}
			for i := 0; i < c.signals; i++ {
				if i > 0 {
					time.Sleep(200 * time.Millisecond) // the first one reached the container
				}
				cmd.Process.Signal(syscall.SIGINT)
			}
			for lines.Scan() {
			}
			// 130: strata was interrupted (its own message kept).
			if code := exitStatus(t, cmd); code != 130 {
				t.Fatalf("exit %d, want 130; stderr: %s", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), "strata: bisect run: interrupted while testing ") {
				t.Errorf("stderr: %q", stderr.String())
			}
			if log := mustStrata(t, dir, "bisect", "log"); strings.Contains(log, "strata bisect good") || strings.Contains(log, "strata bisect bad") {
				t.Errorf("an interrupted test marked a commit:\n%s", log)
			}
			assertNothingLeft(t, dir, before)
		})
	}
}

// BenchmarkBisectRun64 runs bisect run over 64 commits with a trivial test
// (true, so every commit is good but the bad tip: 6 tests); the target is
// under 3 s in all. The snapshots are cached after the first iteration,
// as they are for a user who bisects twice or has checked them out.
func BenchmarkBisectRun64(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Fatal("needs root (overlay mounts, namespaces)")
	}
	dir := benchBisectRepo(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		mustStrata(b, dir, "bisect", "start", "--no-checkout", "main", "main~63")
		b.StartTimer()
		out := mustStrata(b, dir, "bisect", "run", "--", "true")
		b.StopTimer()
		if n := strings.Count(out, "\nrunning 'true'\n"); n != 6 {
			b.Fatalf("%d runs, want 6:\n%s", n, out)
		}
		mustStrata(b, dir, "bisect", "reset")
		b.StartTimer()
	}
}

// benchBisectRepo is a busybox repository with 64 commits on main, each
// a small layer, made without containers.
func benchBisectRepo(b *testing.B) string {
	base := b.TempDir()
	rootfs := filepath.Join(base, "rootfs")
	if err := testrootfs.BuildBusybox(rootfs); err != nil {
		b.Fatal(err)
	}
	dir := filepath.Join(base, "env")
	mustStrata(b, base, "init", dir)
	b.Cleanup(func() { unmountUnder(dir) })
	mustStrata(b, dir, "import", rootfs, "-m", "release 1")
	mustStrata(b, dir, "checkout", "main")
	for i := 2; i <= 64; i++ {
		if err := os.WriteFile(filepath.Join(dir, "rootfs", "release"), []byte(fmt.Sprintf("%d\n", i)), 0o644); err != nil {
			b.Fatal(err)
		}
		mustStrata(b, dir, "commit", "-m", fmt.Sprintf("release %d", i))
	}
	mustStrata(b, dir, "umount")
	return dir
}

// TestBisectFollowsMerges: through the CLI, the candidates include both
// sides of a merge, and the first bad commit on the first-parent line is
// found (commits without layers: nothing is mounted with --no-checkout).
//
//	c1 - c2 - c3 ------- c6 (merge) - c7
//	       \            /
//	        c4 ------ c5
func TestBisectFollowsMerges(t *testing.T) {
	dir := t.TempDir()
	r, err := repo.Init(dir, "main")
	if err != nil {
		t.Fatal(err)
	}
	c := map[string]*objects.Commit{}
	date := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, e := range []struct{ name, parent, merge string }{
		{"c1", "", ""}, {"c2", "c1", ""}, {"c3", "c2", ""}, {"c4", "c2", ""},
		{"c5", "c4", ""}, {"c6", "c3", "c5"}, {"c7", "c6", ""},
	} {
		nc := objects.NewCommit{Parent: c[e.parent], Author: "B <b@example.com>", Date: date.Add(time.Duration(i) * time.Minute),
			Message: e.name, OS: "linux", Architecture: "amd64"}
		if e.merge != "" {
			nc.MergeParent = c[e.merge].ID
		}
		if c[e.name], err = r.Objects.WriteCommit(nc); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Refs.Update(refs.Heads+"main", c["c7"].ID, "", "test"); err != nil {
		t.Fatal(err)
	}
	step := func(want string, args ...string) string {
		t.Helper()
		out := mustStrata(t, dir, append([]string{"bisect"}, args...)...)
		if !strings.Contains(out, want) {
			t.Fatalf("strata bisect %s: want %q in\n%s", strings.Join(args, " "), want, out)
		}
		return out
	}
	// Six candidates; c5, on the merged side, reaches three of them.
	step("Bisecting: 2 revisions left to test after this (roughly 2 steps)\n["+shortID(c["c5"].ID)+"] c5\n",
		"start", "--no-checkout", "main", c["c1"].ID.Encoded())
	step("] c6\n", "good")
	step("] c3\n", "bad")
	out := step(shortID(c["c3"].ID)+" is the first bad commit\n", "bad")
	if !strings.Contains(out, "\n    c3\n") {
		t.Errorf("the first bad commit is not shown:\n%s", out)
	}
	mustStrata(t, dir, "bisect", "reset")
	// A good commit on the merged side is not an ancestor of c3: their
	// merge base is tested first, as git's.
	step("Bisecting: a merge base must be tested\n["+shortID(c["c2"].ID)+"] c2\n",
		"start", "--no-checkout", c["c3"].ID.Encoded(), c["c5"].ID.Encoded())
	mustStrata(t, dir, "bisect", "reset")
	// A good commit that descends from the bad one is refused.
	if out, err := strataCmd(dir, "bisect", "start", "--no-checkout", c["c3"].ID.Encoded(), c["c7"].ID.Encoded()).CombinedOutput(); err == nil ||
		!strings.Contains(string(out), "is not an ancestor of bad") {
		t.Fatalf("good c7, bad c3: %v\n%s", err, out)
	}
}

// TestBisectRunKilledLeavesNoMount: a bisect run killed by SIGKILL
// while it tests a commit left that commit's throwaway overlay mounted
// until gc; the test's watchdog now detaches it, as run --rev's.
func TestBisectRunKilledLeavesNoMount(t *testing.T) {
	dir := bisectRepo(t, 4)
	mustStrata(t, dir, "bisect", "start", "--no-checkout", "main", "main~4")
	t.Cleanup(func() { mustStrata(t, dir, "bisect", "reset") })
	cmd := strataCmd(dir, "bisect", "run", "--", "sh", "-c", "echo ready; sleep 1000")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := bufio.NewScanner(out)
	for lines.Scan() && lines.Text() != "ready" {
	}
	if lines.Text() != "ready" {
		t.Fatal("the test command never printed ready")
	}
	for i := 0; i < 600 && !watchdogRuns(cmd.Process.Pid); i++ {
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	var left []*mountinfo.Info
	for i := 0; i < 200; i++ {
		if left, err = mountinfo.GetMounts(mountinfo.PrefixFilter(filepath.Join(dir, ".strata"))); err != nil || len(left) == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, m := range left {
		t.Errorf("10 s after strata was killed, still mounted: %s", m.Mountpoint)
	}
}
