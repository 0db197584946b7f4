package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/strata-sh/strata/internal/testrootfs"
	"github.com/strata-sh/strata/repo"
)

// busyboxRepo makes a repository with a busybox tree committed on main.
func busyboxRepo(t *testing.T) string {
	t.Helper()
	return busyboxRepoNamed(t, "env")
}

// busyboxRepoNamed is busyboxRepo in a project directory named name
// (export names images after it).
func busyboxRepoNamed(t *testing.T, name string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("needs root (overlay mounts, namespaces): run the tests as root")
	}
	base := t.TempDir()
	rootfs := filepath.Join(base, "rootfs")
	if err := testrootfs.BuildBusybox(rootfs); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(base, name)
	if _, err := repo.Init(dir, "main"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unmountUnder(dir) })
	mustStrata(t, dir, "import", rootfs, "-m", "base")
	return dir
}

// startReady starts a foreground strata run whose script prints "ready"
// once its traps are set, and waits for that line.
func startReady(t *testing.T, dir string, args ...string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	return startReadyCmd(t, strataCmd(dir, args...))
}

// startReadyCmd is startReady of a command already made (its stdin set).
func startReadyCmd(t *testing.T, cmd *exec.Cmd) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := bufio.NewScanner(out)
	if !lines.Scan() || lines.Text() != "ready" {
		t.Fatalf("no ready line, got %q", lines.Text())
	}
	return cmd, lines
}

func exitStatus(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	err := cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode()
}

// TestForegroundSignalsForwarded: SIGTERM, SIGINT and SIGHUP to a
// foreground strata run reach the container's traps; its exit code is
// strata's. Before the fix strata SIGKILLed it (137).
func TestForegroundSignalsForwarded(t *testing.T) {
	dir := busyboxRepo(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP} {
		for _, init := range []bool{false, true} {
			name := strings.TrimPrefix(fmt.Sprint(sig), "signal ")
			t.Run(fmt.Sprintf("%s/init=%v", name, init), func(t *testing.T) {
				trap := map[syscall.Signal]string{syscall.SIGTERM: "TERM", syscall.SIGINT: "INT", syscall.SIGHUP: "HUP"}[sig]
				script := "trap 'echo bye; exit 7' " + trap + "; echo ready; while :; do sleep 0.05; done"
				args := []string{"run", "--rev", "main"}
				if init {
					args = append(args, "--init")
				}
				cmd, lines := startReady(t, dir, append(args, "--", "sh", "-c", script)...)
				cmd.Process.Signal(sig)
				if !lines.Scan() || lines.Text() != "bye" {
					t.Errorf("after %v the trap did not run: %q", sig, lines.Text())
				}
				if code := exitStatus(t, cmd); code != 7 {
					t.Fatalf("exit %d, want the container's 7", code)
				}
			})
		}
	}
}

// TestForegroundStopEscalates: a container that ignores SIGTERM is killed
// after --stop-timeout, and one that survives SIGINT by a second SIGINT.
func TestForegroundStopEscalates(t *testing.T) {
	dir := busyboxRepo(t)
	script := "trap '' TERM INT; echo ready; while :; do sleep 0.05; done"
	cmd, _ := startReady(t, dir, "run", "--rev", "main", "--stop-timeout", "1", "--", "sh", "-c", script)
	cmd.Process.Signal(syscall.SIGTERM)
	if code := exitStatus(t, cmd); code != 137 {
		t.Fatalf("after TERM and --stop-timeout 1: exit %d, want 137", code)
	}

	// The container handles the first SIGINT and goes on, and says so: the
	// second is sent only then. Sent a fixed time after the first, both
	// could reach a strata not yet scheduled (a loaded machine) and be
	// taken for one, which the container survives.
	script = "trap '' TERM; trap 'echo got INT' INT; echo ready; while :; do sleep 0.05; done"
	cmd, lines := startReady(t, dir, "run", "--rev", "main", "--stop-timeout", "0", "--", "sh", "-c", script)
	cmd.Process.Signal(syscall.SIGINT)
	if !lines.Scan() || lines.Text() != "got INT" {
		t.Fatalf("after one SIGINT the container said %q, want \"got INT\"", lines.Text())
	}
	cmd.Process.Signal(syscall.SIGINT)
	for lines.Scan() {
	}
	if code := exitStatus(t, cmd); code != 137 {
		t.Fatalf("after two SIGINTs: exit %d, want 137", code)
	}
}

// TestInterruptedImportSaysSo: Ctrl-C or SIGTERM during an import ends it
// with "interrupted" (not Go's "context canceled") and 128 plus the
// signal's number, as a shell reports a process a signal ended, leaving
// no branch and nothing staged.
func TestInterruptedImportSaysSo(t *testing.T) {
	src := bigTree(t, 200, 256<<10)
	dir := t.TempDir()
	if _, err := repo.Init(dir, "main"); err != nil {
		t.Fatal(err)
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			// The import may end before the signal on a fast machine:
			// signal earlier until one is caught in the middle.
			for _, d := range []time.Duration{200, 100, 50, 20, 5} {
				cmd := strataCmd(dir, "import", src, "-b", "stopped", "-m", "x")
				var stderr strings.Builder
				cmd.Stderr = &stderr
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				time.Sleep(d * time.Millisecond)
				cmd.Process.Signal(sig)
				err := cmd.Wait()
				if err == nil {
					strataCmd(dir, "branch", "-D", "stopped").Run()
					continue
				}
				if code := cmd.ProcessState.ExitCode(); code != 128+int(sig) {
					t.Errorf("exit %d, want %d", code, 128+int(sig))
				}
				msg := stderr.String()
				if !strings.HasPrefix(msg, "strata: import "+src+": ") || !strings.HasSuffix(msg, ": interrupted\n") || strings.Count(msg, "\n") != 1 {
					t.Errorf("stderr %q, want one line \"strata: import %s: ...: interrupted\"", msg, src)
				}
				if out, err := strataCmd(dir, "show", "stopped").CombinedOutput(); err == nil {
					t.Errorf("the interrupted import made its branch:\n%s", out)
				}
				if left, _ := os.ReadDir(filepath.Join(dir, ".strata", "tmp")); len(left) != 0 {
					t.Errorf(".strata/tmp holds %d entries", len(left))
				}
				return
			}
			t.Fatal("every import ended before the signal: the tree is too small for this test")
		})
	}
}
