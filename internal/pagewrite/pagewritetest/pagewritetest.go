// Package pagewritetest counts the write system calls of a piece of
// code, for the tests of pagewrite's callers: each call must take at
// most pagewrite.Max bytes.
package pagewritetest

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"testing"
)

// Calls runs f on one thread and returns how many write system calls
// (syscw in /proc/thread-self/io) that thread made meanwhile. Files f
// writes must be blocking (an *os.File whose Fd was called, or one of
// regular files, which have no poller), and f must not start goroutines
// that write.
func Calls(t testing.TB, f func()) int {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before := count(t)
	f()
	return count(t) - before
}

func count(t testing.TB) int {
	t.Helper()
	b, err := os.ReadFile("/proc/thread-self/io")
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for _, line := range bytes.Split(b, []byte("\n")) {
		if _, err := fmt.Sscanf(string(line), "syscw: %d", &n); err == nil {
			return n
		}
	}
	t.Fatalf("no syscw in /proc/thread-self/io: %q", b)
	return 0
}
