package main

import (
	"io"
	"strings"
	"testing"
)

// TestExecTTY types into "strata exec -it" as a user at a terminal does,
// through a real pty: the joined shell has a terminal of its own (a pty of
// the container's devpts), shows a prompt, runs what is typed and exits
// with its own code; "exec -t" without -i prints through it too, and the
// run's own console is left alone.
func TestExecTTY(t *testing.T) {
	staticInit(t)
	dir := busyboxRepo(t)
	startService(t, dir, "--name", "svc", "--rev", "main", "--", "sh", "-c", "readlink /proc/self/fd/0 > /before; sleep 1000")
	eventually(t, "the run is up", func() bool {
		out, _ := strataCmd(dir, "exec", "svc", "cat", "/before").CombinedOutput()
		return len(out) > 0 && !strings.Contains(string(out), "strata:")
	})

	cmd := strataCmd(dir, "exec", "-it", "svc", "/bin/sh")
	ptm, got := typeAtPrompt(t, cmd, "tty; echo pid1-$(cat /proc/1/comm); echo answer-$((6*7))\n", "answer-42")
	if !strings.Contains(got, "/dev/pts/") {
		t.Errorf("tty in the joined shell names no pty:\n%s", got)
	}
	if !strings.Contains(got, "pid1-sleep") {
		t.Errorf("the joined shell is not in the run's PID namespace:\n%s", got)
	}
	io.WriteString(ptm, "exit 3\n")
	err := cmd.Wait()
	if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 3 {
		t.Errorf("strata exec -it after 'exit 3': %v, want exit status 3", err)
	}

	// -t alone, from a pipe: the command still writes through a pty.
	if got := mustStrata(t, dir, "exec", "-t", "svc", "tty"); !strings.HasPrefix(got, "/dev/pts/") {
		t.Errorf("exec -t svc tty: %q, want a /dev/pts/ name", got)
	}
	// Without -t, no terminal.
	c := strataCmd(dir, "exec", "svc", "tty")
	if b, _ := c.CombinedOutput(); c.ProcessState.ExitCode() == 0 {
		t.Errorf("exec svc tty without -t found a terminal: %q", b)
	}
	// The run's own stdio and console are as they were.
	if got := mustStrata(t, dir, "exec", "svc", "sh", "-c", "readlink /proc/1/fd/0"); got != mustStrata(t, dir, "exec", "svc", "cat", "/before") {
		t.Errorf("the run's stdin changed under exec -t: %q", got)
	}
}
