package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestRunTTY types into "strata run -it" as a user at a terminal does,
// through a real pty: in the checkout and with --rev (a throwaway
// overlay). (-t alone gives a terminal for output only, as docker's:
// run_flags.txtar.) The guide's "run -it -- /bin/sh" once failed with
// "fork/exec /proc/self/fd/5: permission denied"; here it must give a
// shell prompt that runs a command.
func TestRunTTY(t *testing.T) {
	env := busyboxRepo(t)
	mustStrata(t, env, "checkout", "main")
	t.Cleanup(func() { strataCmd(env, "umount", "--force").Run() })
	for _, args := range [][]string{
		{"run", "-it", "--", "/bin/sh"},
		{"run", "--rev", "main", "-it", "--", "/bin/sh"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			cmd := strataCmd(env, args...)
			ptm, got := typeAtPrompt(t, cmd, "tty; echo answer-$((6*7))\n", "answer-42")
			if !strings.Contains(got, "/dev/pts/") && !strings.Contains(got, "/dev/console") {
				t.Errorf("tty in the container names no terminal:\n%s", got)
			}
			io.WriteString(ptm, "exit 3\n")
			err := cmd.Wait()
			if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 3 {
				t.Errorf("strata %s after 'exit 3': %v, want exit status 3", strings.Join(args, " "), err)
			}
		})
	}
}

// typeAtPrompt starts cmd, a strata command that runs a busybox shell,
// on a new pty as at a terminal (TERM=dumb), waits for the shell's
// prompt, types line, and returns the pty and what the terminal showed
// until want. A shell that shows no prompt, or not want, is killed and
// fails the test.
func typeAtPrompt(t *testing.T, cmd *exec.Cmd, line, want string) (*os.File, string) {
	t.Helper()
	cmd.Env = append(cmd.Env, "TERM=dumb")
	ptm, err := pty.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ptm.Close() })
	out := newTermReader(ptm)
	// busybox sh as root prints "/ # " (PS1 '\w \$ ').
	if got, ok := out.waitFor("# ", time.Minute); !ok {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("no shell prompt from strata %s; the terminal showed:\n%s", strings.Join(cmd.Args[1:], " "), got)
	}
	io.WriteString(ptm, line)
	got, ok := out.waitFor(want, time.Minute)
	if !ok {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the command typed at the prompt did not run; the terminal showed:\n%s", got)
	}
	return ptm, got
}

// termReader collects what a pty shows, so that a test can wait for text.
type termReader struct {
	ch  chan []byte
	buf bytes.Buffer
}

func newTermReader(r io.Reader) *termReader {
	tr := &termReader{ch: make(chan []byte, 64)}
	go func() {
		defer close(tr.ch)
		for {
			b := make([]byte, 4096)
			n, err := r.Read(b)
			if n > 0 {
				tr.ch <- b[:n]
			}
			if err != nil {
				return
			}
		}
	}()
	return tr
}

// waitFor reads until s has been shown, or the terminal closes, or limit
// passes (a guard against hanging the suite, not a timing assertion).
func (tr *termReader) waitFor(s string, limit time.Duration) (string, bool) {
	deadline := time.After(limit)
	for !strings.Contains(tr.buf.String(), s) {
		select {
		case b, ok := <-tr.ch:
			if !ok {
				return tr.buf.String(), false
			}
			tr.buf.Write(b)
		case <-deadline:
			return tr.buf.String(), false
		}
	}
	all := tr.buf.String()
	tr.buf.Reset()
	return all, true
}

// TestImportFromTerminalRefused: "strata import -" at a terminal is a
// mistake (tar refuses it too), not a tar to be typed in: it must exit 2
// at once with one line, not wait for input, and make no commit.
func TestImportFromTerminalRefused(t *testing.T) {
	dir := t.TempDir()
	env := filepath.Join(dir, "env")
	if out, err := strataCmd(dir, "init", env).CombinedOutput(); err != nil {
		t.Fatalf("strata init: %v\n%s", err, out)
	}
	ptm, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptm.Close()
	defer tty.Close()
	cmd := strataCmd(env, "import", "-", "-m", "typed")
	var stderr bytes.Buffer
	cmd.Stdin, cmd.Stderr = tty, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(time.Minute): // a hang guard, not a timing check
		cmd.Process.Kill()
		<-done
		t.Fatal("strata import - waited for a tar typed at the terminal")
	}
	if code := cmd.ProcessState.ExitCode(); code != 2 {
		t.Errorf("exit %d (%v), want 2", code, err)
	}
	if want := "strata: import -: standard input is a terminal, not a tar\n"; stderr.String() != want {
		t.Errorf("stderr %q, want %q", stderr.String(), want)
	}
	if out, err := strataCmd(env, "log").CombinedOutput(); err == nil {
		t.Errorf("a commit was made:\n%s", out)
	}
}

// TestExportToTerminalRefused: "strata export REV -o -" with standard
// output on a terminal wrote the archive's bytes to the screen; as docker
// save and podman save, it exits 2 with one line and writes nothing.
func TestExportToTerminalRefused(t *testing.T) {
	env := tinyRepo(t)
	ptm, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptm.Close()
	defer tty.Close()
	shown := newTermReader(ptm)
	for _, out := range []string{"-", "/dev/stdout"} {
		cmd := strataCmd(env, "export", "main", "-o", out)
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = tty, &stderr
		err := cmd.Run()
		if code := cmd.ProcessState.ExitCode(); code != 2 {
			t.Errorf("-o %s: exit %d (%v), want 2", out, code, err)
		}
		if want := "strata: export: standard output is a terminal, not a file: give -o FILE, or redirect\n"; stderr.String() != want {
			t.Errorf("-o %s: stderr %q, want %q", out, stderr.String(), want)
		}
	}
	io.WriteString(tty, "END")
	if got, ok := shown.waitFor("END", time.Minute); !ok || got != "END" {
		t.Errorf("the terminal showed %d bytes: %q", len(got), got[:min(len(got), 80)])
	}
}

// TestColorOnATerminal: with no --color, log is coloured on a terminal
// (git's auto), and not with NO_COLOR set or TERM=dumb.
func TestColorOnATerminal(t *testing.T) {
	env := tinyRepo(t)
	for _, c := range []struct {
		env   []string
		color bool
	}{{nil, true}, {[]string{"NO_COLOR=1"}, false}, {[]string{"TERM=dumb"}, false}} {
		ptm, tty, err := pty.Open()
		if err != nil {
			t.Fatal(err)
		}
		shown := newTermReader(ptm)
		cmd := strataCmd(env, "log", "--oneline", "-n", "1")
		cmd.Env = append(cmd.Env, "TERM=xterm")
		cmd.Env = append(cmd.Env, c.env...)
		cmd.Stdout = tty
		if err := cmd.Run(); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tty, "END")
		got, ok := shown.waitFor("END", time.Minute)
		tty.Close()
		ptm.Close()
		if !ok || strings.Contains(got, "\x1b[33m") != c.color {
			t.Errorf("%v: the terminal showed %q; colour wanted: %v", c.env, got, c.color)
		}
	}
}
