package main

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/strata-sh/strata/repo"
)

// TestAttachTTY types into "strata attach" as a user at a terminal does,
// through a real pty, to a run -dit shell whose run directory is deeper
// than a unix socket's path may be: the shell answers, its terminal is
// sized like the user's and follows its resizes, a second attacher sees
// the same output, ctrl-p ctrl-q detaches leaving the shell running (as
// docker attach: "read escape sequence", exit 1), and
// "exit 3" ends every attacher with 3.
func TestAttachTTY(t *testing.T) {
	staticInit(t)
	dir := busyboxRepoNamed(t, strings.Repeat("deep", 30))
	if sock := filepath.Join(dir, ".strata", "services", "box", attachSocket); len(sock) < 108 {
		t.Fatalf("%s: want a path longer than sun_path's 108 bytes", sock)
	}
	startService(t, dir, "-it", "--name", "box", "--rev", "main", "--", "sh")

	cmd := strataCmd(dir, "attach", "box")
	ptm, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 30, Cols: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer ptm.Close()
	out := newTermReader(ptm)
	// A second attacher, without a terminal, no stdin. It shows only
	// what the run writes once it is attached, as docker's: wait for that
	// before typing (typing at once lost answer-42 to it, once in CI).
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	other := strataCmd(dir, "attach", "--no-stdin", "box")
	other.Stdout = pw
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	defer other.Process.Kill()
	second := newTermReader(pr)
	for try := 0; ; try++ {
		mustStrata(t, dir, "exec", "box", "sh", "-c", "echo second-attached > /proc/1/fd/1")
		if _, ok := second.waitFor("second-attached", time.Second); ok {
			break
		}
		if try == 60 {
			t.Fatal("the second attacher shows nothing of what the run writes")
		}
	}

	type step struct{ typed, want string }
	for _, s := range []step{
		{"echo answer-$((6*7))\r", "answer-42"},
		{"stty size\r", "30 100"},
	} {
		io.WriteString(ptm, s.typed)
		if got, ok := out.waitFor(s.want, time.Minute); !ok {
			t.Fatalf("typed %q, want %q; the terminal showed:\n%s", s.typed, s.want, got)
		}
	}
	pty.Setsize(ptm, &pty.Winsize{Rows: 40, Cols: 120}) // SIGWINCH to attach
	for try := 0; ; try++ {                             // until attach has had its SIGWINCH
		io.WriteString(ptm, "stty size\r")
		if _, ok := out.waitFor("40 120", time.Second); ok {
			break
		}
		if try == 60 {
			t.Fatal("the run's terminal did not follow the resize to 40x120")
		}
	}
	// ctrl-p ctrl-q: as docker attach's (docker-cli returns moby/term's
	// EscapeError), "read escape sequence", exit 1.
	io.WriteString(ptm, "\x10\x11")
	if code := waitGuarded(t, cmd); code != 1 {
		t.Fatalf("attach after the detach keys: exit %d, want 1", code)
	}
	if got, ok := out.waitFor("strata: attach: box: read escape sequence", time.Minute); !ok {
		t.Fatalf("attach after the detach keys did not say read escape sequence; the terminal showed:\n%s", got)
	}
	if st := svcState1(t, dir, "box"); st.Status != "running" {
		t.Fatalf("after a detach, box is %s, want running", st.Status)
	}
	// --no-stdin at a terminal leaves it cooked: ctrl-c ends attach (it
	// reads no detach keys), not the run.
	cmd = strataCmd(dir, "attach", "--no-stdin", "box")
	ptm3, err := pty.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer ptm3.Close()
	out3 := newTermReader(ptm3)
	for try := 0; ; try++ { // until it shows what the run writes: it is attached
		mustStrata(t, dir, "exec", "box", "sh", "-c", "echo marker > /proc/1/fd/1")
		if _, ok := out3.waitFor("marker", time.Second); ok {
			break
		}
		if try == 60 {
			t.Fatal("attach --no-stdin shows nothing of what the run writes")
		}
	}
	io.WriteString(ptm3, "\x03")
	if code := waitGuarded(t, cmd); code != 130 {
		t.Errorf("attach --no-stdin after ctrl-c: exit %d, want 130", code)
	}
	if st := svcState1(t, dir, "box"); st.Status != "running" {
		t.Fatalf("after ctrl-c in attach --no-stdin, box is %s, want running", st.Status)
	}

	// Again, to end it: both attachers end with its code.
	cmd = strataCmd(dir, "attach", "box")
	ptm2, err := pty.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer ptm2.Close()
	out = newTermReader(ptm2)
	io.WriteString(ptm2, "echo again-$((2+3))\r")
	if got, ok := out.waitFor("again-5", time.Minute); !ok {
		t.Fatalf("no answer after attaching again; the terminal showed:\n%s", got)
	}
	io.WriteString(ptm2, "exit 3\r")
	if code := waitGuarded(t, cmd); code != 3 {
		t.Errorf("attach after 'exit 3': exit %d, want 3", code)
	}
	if code := waitGuarded(t, other); code != 3 {
		t.Errorf("the second attacher: exit %d, want 3", code)
	}
	for _, want := range []string{"answer-42", "again-5"} {
		if got, ok := second.waitFor(want, time.Minute); !ok {
			t.Errorf("the second attacher did not see %s:\n%s", want, got)
		}
	}
}

// TestAttachSigProxy: without -t, the SIGINT that attach gets goes to
// the run's pid 1 (docker's --sig-proxy), whose exit code attach exits
// with; stdout and stderr stay apart. The run writes to stderr before
// the line the test waits for: written after it, a SIGINT sent at once
// ran the trap before the echo to stderr (seen once in CI).
func TestAttachSigProxy(t *testing.T) {
	staticInit(t)
	dir := busyboxRepo(t)
	startService(t, dir, "-i", "--name", "sig", "--rev", "main", "--", "sh", "-c",
		`trap "echo got-int; exit 7" INT; read x; echo to-stderr >&2; echo ready-$x; while :; do sleep 0.1; done`)
	cmd := strataCmd(dir, "attach", "sig")
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	out := newTermReader(outPipe)
	io.WriteString(in, "go\n")
	if got, ok := out.waitFor("ready-go", time.Minute); !ok {
		t.Fatalf("no answer through attach; it showed:\n%s", got)
	}
	cmd.Process.Signal(syscall.SIGINT)
	got, _ := out.waitFor("got-int", time.Minute)
	if code := waitGuarded(t, cmd); code != 7 {
		t.Fatalf("attach after SIGINT: exit %d, want the run's 7; stdout %q, stderr %q", code, got, stderr.String())
	}
	if !strings.Contains(got, "got-int") || strings.Contains(got, "to-stderr") {
		t.Errorf("stdout: %q, want got-int and not the run's stderr", got)
	}
	if strings.TrimSpace(stderr.String()) != "to-stderr" {
		t.Errorf("stderr: %q, want the run's to-stderr", stderr.String())
	}
}

// waitGuarded waits for cmd, and kills it if it has not ended after two
// minutes (a guard against hanging the suite, not a timing assertion).
func waitGuarded(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	guard := time.AfterFunc(2*time.Minute, func() {
		t.Errorf("%v: still running after two minutes", cmd.Args)
		cmd.Process.Kill()
	})
	defer guard.Stop()
	cmd.Wait()
	return cmd.ProcessState.ExitCode()
}

// TestAttachHubSlowReader: an attacher that never reads does not hold
// the container's output up, nor make the supervisor keep more than its
// queue; one that reads gets what was written and the exit code.
func TestAttachHubSlowReader(t *testing.T) {
	s := &svc{dir: t.TempDir()}
	h, err := listenAttach(s, false, false)
	if err != nil {
		t.Fatal(err)
	}
	defer h.close()
	h.prepare()
	h.started()
	dial := func() net.Conn {
		c, err := net.Dial("unix", s.path(attachSocket))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	stuck := dial() // never read
	defer stuck.Close()
	reader := dial()
	defer reader.Close()
	eventually(t, "both attached", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return len(h.conns) == 2
	})
	var got bytes.Buffer
	var code uint32
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			typ, p, err := readFrame(reader)
			if err != nil {
				return
			}
			if typ == frameExit {
				code = binary.BigEndian.Uint32(p)
				return
			}
			got.Write(p)
		}
	}()

	chunk := bytes.Repeat([]byte("x"), 32<<10)
	wrote := make(chan struct{})
	go func() {
		w := h.writer(frameStdout)
		for range 3200 { // 100 MiB: far more than the socket and queue hold
			w.Write(chunk)
		}
		w.Write([]byte("end\n"))
		close(wrote)
	}()
	select {
	case <-wrote:
	case <-time.After(2 * time.Minute): // a guard, not a timing assertion
		t.Fatal("the output waited for an attacher that does not read")
	}
	h.mu.Lock()
	for a := range h.conns {
		if len(a.out) > attachQueue {
			t.Errorf("an attacher's queue holds %d chunks, over %d", len(a.out), attachQueue)
		}
	}
	h.mu.Unlock()
	h.finish(7, false)
	wg.Wait()
	if code != 7 {
		t.Errorf("the reading attacher got exit code %d, want 7", code)
	}
	if got.Len() == 0 {
		t.Errorf("the reading attacher got no output")
	}
}

func TestParseDetachKeys(t *testing.T) {
	for in, want := range map[string]string{
		"":              "\x10\x11",
		"ctrl-p,ctrl-q": "\x10\x11",
		"a,ctrl-@":      "a\x00",
		"ctrl-[,ctrl-_": "\x1b\x1f",
		"ctrl-\\,x":     "\x1cx",
		"ctrl-a,DEL":    "\x01\x7f", // docker's DEL
	} {
		got, err := parseDetachKeys(in)
		if err != nil || string(got) != want {
			t.Errorf("parseDetachKeys(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"ctrl-", "ctrl-1", "ab", "ctrl-p,,ctrl-q"} {
		if _, err := parseDetachKeys(in); err == nil {
			t.Errorf("parseDetachKeys(%q) took it", in)
		}
	}
}

func TestDetachFilter(t *testing.T) {
	for _, c := range []struct {
		keys   string
		chunks []string
		want   string
		detach bool
	}{
		{"\x10\x11", []string{"ls\r"}, "ls\r", false},
		{"\x10\x11", []string{"ab\x10\x11cd"}, "ab", true},
		{"\x10\x11", []string{"ab\x10", "\x11"}, "ab", true},         // across reads
		{"\x10\x11", []string{"a\x10b"}, "a\x10b", false},            // a broken match goes on
		{"\x10\x11", []string{"\x10", "\x10\x11"}, "\x10", true},     // the second ctrl-p starts again
		{"\x10\x10\x11", []string{"\x10\x10\x10\x11"}, "\x10", true}, // and so on
		{"q", []string{"abq"}, "ab", true},
	} {
		d := &detachFilter{keys: []byte(c.keys)}
		var out []byte
		var detach bool
		for _, ch := range c.chunks {
			p, dt := d.feed([]byte(ch))
			out = append(out, p...)
			if dt {
				detach = true
				break
			}
		}
		if string(out) != c.want || detach != c.detach {
			t.Errorf("keys %q, typed %q: passed %q, detach %v; want %q, %v", c.keys, c.chunks, out, detach, c.want, c.detach)
		}
	}
}

// TestAttachRefusesPlanted: attach talks only to the run's supervisor:
// a socket someone else listens on in its place, or a socket with group
// or other bits, is refused before anything is sent.
func TestAttachRefusesPlanted(t *testing.T) {
	staticInit(t)
	dir := busyboxRepo(t)
	startService(t, dir, "-i", "--name", "box", "--rev", "main", "--", "sh")
	sock := filepath.Join(dir, ".strata", "services", "box", attachSocket)
	if err := os.Remove(sock); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	for _, c := range []struct {
		mode os.FileMode
		want string
	}{
		{0o600, "strata: attach: box: what answers at " + sock + " is not the run's supervisor\n"},
		{0o666, "strata: attach: box: " + sock + " is not the supervisor's socket\n"},
	} {
		if err := os.Chmod(sock, c.mode); err != nil {
			t.Fatal(err)
		}
		cmd := strataCmd(dir, "attach", "box")
		out, _ := cmd.CombinedOutput()
		if code := cmd.ProcessState.ExitCode(); code != 1 || string(out) != c.want {
			t.Errorf("attach to a planted socket (mode %o): exit %d, %q; want 1, %q", c.mode, code, out, c.want)
		}
	}
}

// TestAttachToARunEndedMeanwhile: a run that ends between attach's
// check and its connection, its supervisor having saved it exited and
// removed its socket, is not running (exit 1, as one that ended before),
// not a run whose strata started it without a socket.
func TestAttachToARunEndedMeanwhile(t *testing.T) {
	staticInit(t)
	dir := busyboxRepo(t)
	startService(t, dir, "--name", "box", "--rev", "main", "--", "sleep", "1000")
	r, err := repo.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := loadSvc(r, "box")
	if err != nil {
		t.Fatal(err)
	}
	// What the supervisor does as the run ends, after attach's check.
	running, ended := *s, *s
	ended.st.Status = "exited"
	if err := ended.save(); err != nil {
		t.Fatal(err)
	}
	defer running.save() // running again, for rm -f to stop it
	if err := os.Remove(s.path(attachSocket)); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	g := &globals{stdin: strings.NewReader(""), stdout: &out, stderr: &out}
	err = attachRun(t.Context(), g, s, attachOptions{}, nil)
	const want = "box is not running: you cannot attach to a stopped run, start it first"
	if err == nil || err.Error() != want {
		t.Fatalf("attach to a run that ended meanwhile: %v; want %s", err, want)
	}
}
