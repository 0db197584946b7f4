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

	// The detach keys, read at a terminal only (as docker's): start
	// returns 0 and the run goes on.
	cmd = strataCmd(dir, "start", "-ai", "--detach-keys", "ctrl-x", "box")
	ptm2, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 30, Cols: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer ptm2.Close()
	out = newTermReader(ptm2)
	if got, ok := out.waitFor("hello-42", time.Minute); !ok {
		t.Fatalf("start -ai again did not show the run's first output; the terminal showed:\n%s", got)
	}
	io.WriteString(ptm2, "\x18")
	if code := waitGuarded(t, cmd); code != 0 {
		t.Errorf("start -ai --detach-keys ctrl-x, then ctrl-x: exit %d, want 0", code)
	}
	if got := mustStrata(t, dir, "inspect", "-f", "{{.State.Status}}", "box"); got != "running\n" {
		t.Errorf("after the detach keys the run is %q, want running", got)
	}
	mustStrata(t, dir, "stop", "-t", "0", "box")
}
