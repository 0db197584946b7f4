package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strata-sh/strata/internal/testrootfs"
	"golang.org/x/sys/unix"
)

// swapForever exchanges the paths "A:B" with renameat2(RENAME_EXCHANGE) in
// a loop, as a hostile container does to race the host's commands on its
// upper directory. It marks /race/ready once it runs.
func swapForever(pair string) {
	a, b, _ := strings.Cut(pair, ":")
	os.WriteFile("/race/ready", nil, 0o644)
	for {
		unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
	}
}

// swapperRepo is a busybox repository with main checked out in work, the
// swapper (this test binary) installed there as /bin/swapper, and a host
// directory beside it, canary, holding a CANARY file.
func swapperRepo(t *testing.T) (dir, work, canary string) {
	t.Helper()
	dir = busyboxRepo(t)
	canary = filepath.Join(filepath.Dir(dir), "host")
	if err := os.MkdirAll(canary, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(canary, "CANARY"), []byte("host secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustStrata(t, dir, "checkout", "main")
	work = filepath.Join(dir, "rootfs")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := testrootfs.InstallBinary(self, work, "/bin/swapper"); err != nil {
		t.Fatal(err)
	}
	return dir, work, canary
}

// TestCommitRacesASwappingContainer runs the symlink race of issue 8 with a
// real container: inside 'strata run', /race/d (a directory) and /race/s (a
// symlink to a host directory holding a canary) swap places in a loop while
// the host commits. Half the rounds exclude /race, so that commit carries it
// to the new upper instead of storing it. Whatever instant the commit
// catches, nothing of the host may enter a layer or the work tree, and the
// canary stays where it is.
func TestCommitRacesASwappingContainer(t *testing.T) {
	dir, work, canary := swapperRepo(t)

	for round := 0; round < 200; round++ {
		race := filepath.Join(work, "race")
		os.RemoveAll(race)
		if err := os.MkdirAll(filepath.Join(race, "d"), 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(race, "d", "inside"), []byte(fmt.Sprint(round)), 0o644)
		if err := os.Symlink(canary, filepath.Join(race, "s")); err != nil {
			t.Fatal(err)
		}
		ignore := filepath.Join(work, ".strataignore")
		if round%2 == 1 {
			os.WriteFile(ignore, []byte("/race/\n"), 0o644)
		} else {
			os.Remove(ignore)
		}

		run := strataCmd(dir, "run", "-e", "STRATA_TEST_SWAPPER=/race/d:/race/s", "--", "/bin/swapper")
		if err := run.Start(); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			if _, err := os.Lstat(filepath.Join(race, "ready")); err == nil {
				break
			}
			if time.Now().After(deadline) {
				run.Process.Kill()
				run.Wait()
				t.Fatalf("round %d: the swapper never started", round)
			}
		}
		out, cerr := strataCmd(dir, "commit", "-m", fmt.Sprintf("round %d", round)).CombinedOutput()
		run.Process.Kill()
		run.Wait()
		if cerr != nil && !strings.Contains(string(out), "nothing to commit") {
			t.Fatalf("round %d: commit: %v\n%s", round, cerr, out)
		}

		if b, err := os.ReadFile(filepath.Join(canary, "CANARY")); err != nil || string(b) != "host secret\n" {
			t.Fatalf("round %d: the host canary changed: %q, %v", round, b, err)
		}
		if ents, _ := os.ReadDir(canary); len(ents) != 1 {
			t.Fatalf("round %d: the host directory holds %d entries, want only CANARY", round, len(ents))
		}
		diff := mustStrata(t, dir, "diff", "--name-status", "HEAD~1", "HEAD")
		if strings.Contains(diff, "CANARY") {
			t.Fatalf("round %d: a host file entered the commit:\n%s", round, diff)
		}
		filepath.WalkDir(work, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.Name() == "CANARY" {
				t.Fatalf("round %d: a host file appeared in the work tree at %s", round, p)
			}
			return nil
		})
	}
}

// startSwapper runs the swapper in a container of the repository in dir
// until the test ends, and returns once it swaps (race is its /race).
func startSwapper(t *testing.T, dir, race string) {
	t.Helper()
	startSwapperOf(t, dir, race, "/race/d:/race/s")
}

// startSwapperOf is startSwapper of the pair "A:B" (swapForever), run
// with the options opts besides.
func startSwapperOf(t *testing.T, dir, race, pair string, opts ...string) {
	t.Helper()
	args := append(append([]string{"run"}, opts...), "-e", "STRATA_TEST_SWAPPER="+pair, "--", "/bin/swapper")
	swapper := strataCmd(dir, args...)
	if err := swapper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { swapper.Process.Kill(); swapper.Wait() })
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if _, err := os.Lstat(filepath.Join(race, "ready")); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the swapper never started")
		}
	}
}

// TestStartRacesASwappingContainer races a detached run's restarts against
// a container that swaps the run's -v source in the work tree (/race/d, a
// directory) with a symbolic link to a host directory holding a canary
// (/race/s). The run was made while /race/d was a directory, so it starts
// only while the path leads there; whatever instant each start catches
// (its check, the supervisor's, the init's bind), the container it starts
// must never see the host directory.
func TestStartRacesASwappingContainer(t *testing.T) {
	dir, work, canary := swapperRepo(t)
	t.Cleanup(func() { killSupervisorsUnder(dir) })
	os.WriteFile(filepath.Join(canary, "env"), []byte("SECRET=host-secret\n"), 0o600)
	race := filepath.Join(work, "race")
	if err := os.MkdirAll(filepath.Join(race, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(race, "d", "inside"), nil, 0o644)
	os.WriteFile(filepath.Join(race, "d", "env"), []byte("SECRET=none\n"), 0o644)
	if err := os.Symlink(canary, filepath.Join(race, "s")); err != nil {
		t.Fatal(err)
	}
	// Its --env-file too is read where it led when the run was made.
	mustStrata(t, dir, "run", "-d", "--name", "victim", "-v", filepath.Join(race, "d")+":/data",
		"--env-file", filepath.Join(race, "d", "env"), "--", "sh", "-c", "ls /data >> /seen; echo $SECRET >> /seen")
	mustStrata(t, dir, "wait", "victim")

	startSwapper(t, dir, race)
	// Most starts are refused at one of their checks (about 1 in 200
	// gets through them all here, under load fewer): go on until two
	// did, for at most 2,000 rounds, so that a run with none, which
	// proves nothing, is rare (500 rounds had none about once in six).
	started, rounds := 0, 0
	for ; rounds < 2000 && started < 2; rounds++ {
		out, err := strataCmd(dir, "start", "victim").CombinedOutput()
		if err != nil {
			// Refused at a check: a link found, or the link followed
			// in the tree's root (resolveHostPath) to nothing there.
			if !strings.Contains(string(out), "a symbolic link") && !strings.Contains(string(out), "links are followed as its container sees them): no such file") {
				t.Fatalf("round %d: start failed otherwise: %v\n%s", rounds, err, out)
			}
			continue
		}
		started++
		mustStrata(t, dir, "wait", "victim")
	}
	seen, err := os.ReadFile(filepath.Join(work, "seen"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(seen), "CANARY") || strings.Contains(string(seen), "host-secret") {
		t.Fatalf("a start bound the host directory the link names:\n%s", seen)
	}
	// Each start that got past its checks listed /race/d (a start the
	// swap refused at the init's bind lists nothing).
	if n := strings.Count(string(seen), "inside"); n < 1 || started < 1 {
		t.Fatalf("%d starts of %d, %d listings of /race/d: the race was never run to the bind", started, rounds, n)
	}
	t.Logf("%d of %d starts got past their checks", started, rounds)
}
