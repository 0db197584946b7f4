package main

import (
	"io"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestStartAttachTTY starts an ended run -dit shell with start -ai at a
// terminal, as docker's start -ai: what it writes first is shown, the
// keys typed reach its terminal, and start exits with its code.
func TestStartAttachTTY(t *testing.T) {
	staticInit(t)
	dir := busyboxRepo(t)
	startService(t, dir, "-it", "--name", "box", "--rev", "main", "--", "sh", "-c", "echo hello-$((40+2)); exec sh")
	mustStrata(t, dir, "stop", "-t", "0", "box")

	cmd := strataCmd(dir, "start", "-ai", "box")
	ptm, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 30, Cols: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer ptm.Close()
	out := newTermReader(ptm)
	if got, ok := out.waitFor("hello-42", time.Minute); !ok {
		t.Fatalf("start -ai did not show the run's first output; the terminal showed:\n%s", got)
	}
	io.WriteString(ptm, "stty size\r")
	if got, ok := out.waitFor("30 100", time.Minute); !ok {
		t.Fatalf("typed stty size, want 30 100; the terminal showed:\n%s", got)
	}
	io.WriteString(ptm, "exit 3\r")
	if code := waitGuarded(t, cmd); code != 3 {
		t.Errorf("start -ai after 'exit 3': exit %d, want 3", code)
	}
}
