package exec

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// ptyConsole is the test's side of a terminal: Run gets the slave as the
// caller's terminal, the test types into and reads from the master.
type ptyConsole struct {
	master, slave *os.File
	mu            sync.Mutex
	out           bytes.Buffer
}

func newConsole(t *testing.T, rows, cols uint16) *ptyConsole {
	m, s, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	c := &ptyConsole{master: m, slave: s}
	pty.Setsize(m, &pty.Winsize{Rows: rows, Cols: cols})
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := m.Read(buf)
			c.mu.Lock()
			c.out.Write(buf[:n])
			c.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { s.Close(); m.Close() })
	return c
}

func (c *ptyConsole) output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.String()
}

// waitFor types input (again every 100 ms, if repeat) until want shows up;
// the deadline only guards against a hang.
func (c *ptyConsole) waitFor(t *testing.T, input, want string, repeat bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	c.master.WriteString(input)
	for !strings.Contains(c.output(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in terminal output %q", want, c.output())
		}
		time.Sleep(10 * time.Millisecond)
		if repeat {
			c.master.WriteString(input)
		}
	}
}

func TestTerminal(t *testing.T) {
	con := newConsole(t, 33, 77)
	before, err := unix.IoctlGetTermios(int(con.slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan result, 1)
	go func() {
		code, err := Run(context.Background(), Spec{Root: busybox(t), Args: []string{"sh"}, Terminal: true,
			Stdin: con.slave, Stdout: con.slave, Env: []string{"PS1=$ "}})
		done <- result{code: code, err: err}
	}()
	con.waitFor(t, "echo $((6*7))-x; tty; stty size\r", "42-x", false)
	con.waitFor(t, "", "/dev/pts/0", false)
	con.waitFor(t, "", "33 77", false)
	// While the container runs, the caller's terminal is raw.
	now, _ := unix.IoctlGetTermios(int(con.slave.Fd()), unix.TCGETS)
	if now.Lflag&unix.ICANON != 0 || now.Lflag&unix.ECHO != 0 {
		t.Errorf("caller's terminal not raw while running: lflag %#x", now.Lflag)
	}
	// Resizing the caller's terminal (SIGWINCH) resizes the container's.
	pty.Setsize(con.master, &pty.Winsize{Rows: 40, Cols: 100})
	syscall.Kill(os.Getpid(), syscall.SIGWINCH)
	con.waitFor(t, "stty size\r", "40 100", true)
	// A controlling terminal: ^C interrupts the foreground job (else the
	// sleep outlasts the deadline and "alive-5" never shows).
	con.master.WriteString("sleep 100\r")
	con.waitFor(t, "\x03echo alive-$((2+3))\r", "alive-5", true)
	con.master.WriteString("exit 7\r")
	r := <-done
	if r.code != 7 || r.err != nil {
		t.Fatalf("code %d err %v, output %q", r.code, r.err, con.output())
	}
	after, _ := unix.IoctlGetTermios(int(con.slave.Fd()), unix.TCGETS)
	if *after != *before {
		t.Errorf("terminal state not restored:\nbefore %+v\nafter  %+v", before, after)
	}
}

func TestTerminalRestoredOnError(t *testing.T) {
	con := newConsole(t, 24, 80)
	before, _ := unix.IoctlGetTermios(int(con.slave.Fd()), unix.TCGETS)
	code, err := Run(context.Background(), Spec{Root: busybox(t), Args: []string{"no-such-command"}, Terminal: true,
		Stdin: con.slave, Stdout: con.slave})
	if code != 127 || !errors.Is(err, ErrNotFound) {
		t.Fatalf("code %d err %v", code, err)
	}
	after, _ := unix.IoctlGetTermios(int(con.slave.Fd()), unix.TCGETS)
	if *after != *before {
		t.Errorf("terminal state not restored after a failed start")
	}
}

func TestTerminalWithInit(t *testing.T) {
	con := newConsole(t, 24, 80)
	done := make(chan result, 1)
	go func() {
		code, err := Run(context.Background(), Spec{Root: busybox(t), Args: []string{"sh"}, Terminal: true, Init: true,
			Stdin: con.slave, Stdout: con.slave})
		done <- result{code: code, err: err}
	}()
	con.waitFor(t, "echo pid-$$; tty; cat /proc/1/comm\r", "strata-init", false)
	if out := con.output(); !strings.Contains(out, "/dev/pts/0") || strings.Contains(out, "pid-1\r") {
		t.Fatalf("output %q: want a shell that is not pid 1 on /dev/pts/0", out)
	}
	con.master.WriteString("exit 3\r")
	if r := <-done; r.code != 3 || r.err != nil {
		t.Fatalf("code %d err %v output %q", r.code, r.err, con.output())
	}
}

// TestInterruptsNotIgnoredInside: strata started with SIGINT and SIGHUP
// ignored (a background job of a script, nohup) starts the command with
// both at their defaults on every way in, else ^C in "run -it" stops
// nothing. The init kept them ignored (Go keeps those two ignored if
// they were at start, and execve keeps an ignored signal ignored).
func TestInterruptsNotIgnoredInside(t *testing.T) {
	for _, way := range []string{"direct", "init", "pid1"} {
		t.Run(way, func(t *testing.T) {
			if way == "direct" {
				requireDirect(t)
			} else {
				throughInit(t)
			}
			signal.Ignore(syscall.SIGINT, syscall.SIGHUP)
			defer signal.Reset(syscall.SIGINT, syscall.SIGHUP)
			// Not through sh: busybox's "sh -c" ignores SIGQUIT in its child.
			r := run(t, busybox(t), func(s *Spec) { s.Init = way == "pid1" }, "grep", "SigIgn", "/proc/self/status")
			f := strings.Fields(r.stdout)
			if len(f) != 2 {
				t.Fatalf("SigIgn line %q (code %d, err %v, stderr %q)", r.stdout, r.code, r.err, r.stderr)
			}
			ign, err := strconv.ParseUint(f[1], 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			// Bit N-1 is signal N: SIGHUP 1, SIGINT 2.
			if ign&0b11 != 0 {
				t.Errorf("the command starts with SigIgn %s: SIGHUP or SIGINT ignored", f[1])
			}
		})
	}
}

// TestTerminalPassesAQueuedEndOfFile: an end of file the caller's
// terminal queued while still canonical (^D typed before the command
// ran, or script(1)'s once its own stdin ends) reaches the command as an
// end of file, every way into a container. It read as a NUL once the
// terminal was raw, which the command's pty echoed as "^@" and handed
// to its read; on nsenter's way, which sends the pty back before the
// command starts, under script(1) after each exec -it whose stdin had
// ended.
func TestTerminalPassesAQueuedEndOfFile(t *testing.T) {
	for _, way := range joinWays {
		t.Run(way, func(t *testing.T) {
			joinWay(t, way)
			pid, _ := startJoinable(t, nil, "touch /ready; exec sleep 1000")
			con := newConsole(t, 24, 80)
			con.master.WriteString("\x04after\n") // queued, canonical: an end of file, then a line
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			code, err := Join(ctx, pid, Spec{Args: []string{"sh", "-c", `read x; echo "[$x]"`}, Terminal: true,
				Stdin: con.slave, Stdout: con.slave, Stderr: con.slave})
			if code != 0 || err != nil {
				t.Fatalf("code %d err %v, output %q", code, err, con.output())
			}
			// The console's reader may still be behind; the deadline only
			// guards against a hang.
			for deadline := time.Now().Add(20 * time.Second); !strings.Contains(con.output(), "]") && time.Now().Before(deadline); {
				time.Sleep(10 * time.Millisecond)
			}
			if out := con.output(); strings.Contains(out, "^@") || !strings.Contains(out, "[]") {
				t.Errorf("terminal output %q: want the command's read to end at the end of file, with no ^@", out)
			}
		})
	}
}
