package main

import (
	"fmt"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestAttachHubRestartInput: what an attacher types after a -it run
// restarted goes to the new run's terminal, never to the old run's
// reader, which exec's copy to the old pty may still call after the old
// run ended. Many times over, with the old reader reading on each time,
// so that a shared channel would hand it the chunk.
func TestAttachHubRestartInput(t *testing.T) {
	s := &svc{dir: t.TempDir()}
	h, err := listenAttach(s, true, true)
	if err != nil {
		t.Fatal(err)
	}
	defer h.close()
	buf := make([]byte, 64)
	for i := range 200 {
		old := h.prepare()
		h.started()
		h.finish(1, false) // a restart
		next := h.prepare()
		h.started()
		conn, err := net.Dial("unix", s.path(attachSocket))
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("chunk-%d", i)
		if _, err := conn.Write(makeFrame(frameStdin, []byte(want))); err != nil {
			t.Fatal(err)
		}
		for range 2000 { // the old run's copy reads on
			if n, _ := old.Read(buf); n > 0 {
				t.Fatalf("restart %d: the old run's reader took %q", i, buf[:n])
			}
			runtime.Gosched()
		}
		got := make(chan string, 1)
		go func() {
			n, _ := next.Read(buf)
			got <- string(buf[:n])
		}()
		select {
		case g := <-got:
			if g != want {
				t.Fatalf("restart %d: the new run read %q, want %q", i, g, want)
			}
		case <-time.After(2 * time.Minute): // a guard, not a timing assertion
			t.Fatalf("restart %d: the new run never got %q", i, want)
		}
		if _, err := io.ReadAll(old); err != nil {
			t.Fatalf("restart %d: the old run's reader: %v, want EOF", i, err)
		}
		conn.Close()
	}
}

// ended reports whether the terminal tr reads from has closed (its
// program ended), what it showed being read.
func ended(tr *termReader) bool {
	for {
		select {
		case _, open := <-tr.ch:
			if !open {
				return true
			}
		default:
			return false
		}
	}
}

// TestAttachAfterRestarts attaches at a terminal to a run -dit that
// reads one line and exits 1, restarted each time (--restart always):
// after every restart, the line typed reaches the new container's shell.
func TestAttachAfterRestarts(t *testing.T) {
	staticInit(t)
	dir := busyboxRepo(t)
	startService(t, dir, "-it", "--restart", "always", "--name", "again", "--rev", "main", "--", "sh", "-c", "read x; echo got-$x; exit 1")
	for i := range 5 {
		want := fmt.Sprintf("got-line%d", i)
		for try := 0; ; try++ {
			// Between restarts attach is refused: then again.
			cmd := strataCmd(dir, "attach", "again")
			ptm, err := pty.Start(cmd)
			if err != nil {
				t.Fatal(err)
			}
			out := newTermReader(ptm)
			fmt.Fprintf(ptm, "line%d\r", i)
			got, ok := out.waitFor(want, 2*time.Minute)
			byItself := !ok && ended(out)
			if !ok && !byItself {
				cmd.Process.Kill()
			}
			code := waitGuarded(t, cmd)
			ptm.Close()
			if ok {
				if code != 1 {
					t.Fatalf("run %d: attach exited %d, want the run's 1", i, code)
				}
				break
			}
			// attach ended by itself: refused between restarts, or
			// attached as the last run ended. Else the line was lost.
			if !byItself || try == 300 {
				t.Fatalf("run %d: typed line%d, want %s; the terminal showed:\n%s", i, i, want, got)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}
