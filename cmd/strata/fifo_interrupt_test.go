//go:build !strata_front

package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFIFOWithoutPeerInterrupted: import of a FIFO and export to one wait
// for the other end, as tar does, and SIGINT or SIGTERM still stops them
// (they sat in open(2) until SIGKILL); docker-archive:, which is read at
// offsets, refuses a FIFO at once.
func TestFIFOWithoutPeerInterrupted(t *testing.T) {
	dir := t.TempDir()
	t.Cleanup(func() { unmountUnder(dir) })
	strataOK(t, dir, "init")
	strataOK(t, dir, "import", bigTree(t, 1, 16), "-m", "base")
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"import", fifo, "-b", "x"}, {"export", "main", "-o", fifo}} {
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
			cmd := strataCmd(dir, args...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waitForFIFOOpen(t, cmd.Process.Pid)
			cmd.Process.Signal(sig)
			done := make(chan int, 1)
			go func() { done <- exitStatus(t, cmd) }()
			select {
			case code := <-done:
				if code != 128+int(sig) || !strings.HasSuffix(stderr.String(), ": interrupted\n") {
					t.Errorf("%s, %v: exit %d, stderr %q; want %d and \"...: interrupted\"", args, sig, code, stderr.String(), 128+int(sig))
				}
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Errorf("%s: still waiting for the FIFO's peer 10 s after %v", args, sig)
			}
		}
	}
	cmd := strataCmd(dir, "import", "docker-archive:"+fifo, "-b", "y")
	done := make(chan []byte, 1)
	go func() { out, _ := cmd.CombinedOutput(); done <- out }()
	select {
	case out := <-done:
		if !strings.Contains(string(out), "not a regular file") {
			t.Errorf("import docker-archive:FIFO: %s, want it refused", out)
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Error("import docker-archive:FIFO waits for a writer")
	}
}

// waitForFIFOOpen waits until a thread of process pid waits in a FIFO's
// open(2) for the other end.
func waitForFIFOOpen(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		tasks, _ := filepath.Glob(filepath.Join("/proc", strconv.Itoa(pid), "task", "*", "wchan"))
		for _, w := range tasks {
			if b, _ := os.ReadFile(w); string(b) == "wait_for_partner" {
				return
			}
		}
	}
	t.Fatalf("process %d never waited in a FIFO's open", pid)
}
