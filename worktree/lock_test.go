package worktree

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestLockWaitIsToldAndStops: a command that finds the work tree held
// says so once (naming the holder strata wrote) and stops waiting when
// its context ends, the CLI's Ctrl-C, rather than wait in silence for
// as long as the holder lives.
func TestLockWaitIsToldAndStops(t *testing.T) {
	_, _, w := checkedOutBase(t)
	unlock, err := w.lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The holder is this process; a second open file description of the
	// lock is a second holder to the kernel.
	told := make(chan string, 1)
	LockWaitNotice = func(holder string) { told <- holder }
	t.Cleanup(func() { LockWaitNotice = nil })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := w.Status(ctx); done <- err }()
	select {
	case holder := <-told:
		if !strings.Contains(holder, "pid ") || !strings.Contains(holder, filepath.Base(os.Args[0])) {
			t.Errorf("the holder is told as %q", holder)
		}
	case err := <-done:
		t.Fatalf("status did not wait for the held work tree: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("no word after a minute of waiting")
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("status after the wait was stopped: %v, want context.Canceled", err)
	}
	unlock()
	// Free again: no wait, no word.
	if _, err := w.Status(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case h := <-told:
		t.Errorf("told of a holder %q with the lock free", h)
	default:
	}
	// Still the kernel's lock: a holder that is not strata (no pid
	// written since) is "another process".
	f, err := os.OpenFile(filepath.Join(w.Dir, "lock"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	f.Truncate(0)
	if got := lockHolder(f); got != "another process" {
		t.Errorf("holder of an empty lock file: %q", got)
	}
}
