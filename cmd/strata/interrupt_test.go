package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestInterruptedKnowsTheSignal: what makes an error "interrupted" is the
// signal, not its text. net/http reports the context's cause ("interrupt"),
// with a request URL that may hold an upload's state token; a hint a
// wrapper put after the error goes with it.
func TestInterruptedKnowsTheSignal(t *testing.T) {
	put := &url.Error{Op: "Put", URL: "http://127.0.0.1:5000/v2/env/blobs/uploads/x?_state=SECRET&digest=sha256:ab", Err: signalCause{syscall.SIGINT}}
	for _, c := range []struct {
		sig  syscall.Signal
		err  error
		want string
	}{
		{syscall.SIGINT, fmt.Errorf("push origin main: %w", fmt.Errorf("upload: %w", put)), "push origin main: upload: interrupted"},
		{syscall.SIGTERM, fmt.Errorf("fetch origin: %w", context.Canceled), "fetch origin: interrupted"},
		{syscall.SIGINT, fmt.Errorf("clone x: checkout: %w (the repository is complete; run 'strata checkout main' in cl)", fmt.Errorf("unpack: %w", context.Canceled)), "clone x: checkout: unpack: interrupted"},
		{syscall.SIGINT, fmt.Errorf("fetch o: %w", errors.New("tag main: something: interrupt")), "fetch o: interrupted"},
		{syscall.SIGINT, errors.New("bisect run: interrupted while testing abc; nothing was marked"), "bisect run: interrupted while testing abc; nothing was marked"},
	} {
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(signalCause{c.sig})
		got := interrupted(ctx, c.err)
		var ec exitCodeError
		if !errors.As(got, &ec) || ec.code != 128+int(c.sig) || ec.err.Error() != c.want {
			t.Errorf("interrupted(%q) = %#v, want exit %d %q", c.err, got, 128+int(c.sig), c.want)
		}
	}
	// No signal: the error is the command's, whatever it says.
	err := fmt.Errorf("fetch: %w", context.Canceled)
	if got := interrupted(context.Background(), err); got != err {
		t.Errorf("without a signal: %v", got)
	}
}

// TestInterruptedPushSaysSo: Ctrl-C or SIGTERM during a push that waits
// on the registry exits 130 or 143 with one line ending "interrupted",
// and the upload's URL (its _state token) is not in it.
func TestInterruptedPushSaysSo(t *testing.T) {
	// arrived hears of the current push's PUTs: a fresh channel for each,
	// as a push sends its blobs' PUTs in parallel.
	var mu sync.Mutex
	arrived, stop := make(chan struct{}, 1), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v2/":
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/blobs/uploads/"):
			w.Header().Set("Location", "/v2/env/blobs/uploads/u1?_state=SECRETSTATE")
			w.WriteHeader(http.StatusAccepted)
		case r.Method == http.MethodPut:
			mu.Lock()
			ch := arrived
			mu.Unlock()
			select {
			case ch <- struct{}{}:
			default:
			}
			io.Copy(io.Discard, r.Body)
			select { // the registry never answers
			case <-r.Context().Done():
			case <-stop:
			}
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	defer close(stop)
	dir := t.TempDir()
	strataOK(t, dir, "init")
	strataOK(t, dir, "import", bigTree(t, 2, 1024), "-m", "base")
	url := strings.TrimPrefix(srv.URL, "http://") + "/env"
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		mu.Lock()
		arrived = make(chan struct{}, 1)
		ch := arrived
		mu.Unlock()
		cmd := strataCmd(dir, "push", "-q", url, "main")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		select {
		case <-ch:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Fatal("the push never reached its upload")
		}
		cmd.Process.Signal(sig)
		if code := exitStatus(t, cmd); code != 128+int(sig) {
			t.Errorf("%v: exit %d, want %d; stderr %q", sig, code, 128+int(sig), stderr.String())
		}
		msg := stderr.String()
		if !strings.HasPrefix(msg, "strata: push "+url+" main: ") || !strings.HasSuffix(msg, ": interrupted\n") || strings.Count(msg, "\n") != 1 || strings.Contains(msg, "_state") || strings.Contains(msg, "http") {
			t.Errorf("%v: stderr %q, want one line \"strata: push %s main: ...: interrupted\"", sig, msg, url)
		}
	}
}

// interruptedExit sends sig to cmd, started with stderr, and checks that
// it exits 128 plus the signal's number with the one line want. A
// command that ignores the signal is killed after a generous deadline,
// failing the test rather than hanging it.
func interruptedExit(t *testing.T, cmd *exec.Cmd, stderr *strings.Builder, sig syscall.Signal, want string) {
	t.Helper()
	cmd.Process.Signal(sig)
	timer := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() })
	defer timer.Stop()
	code := exitStatus(t, cmd)
	if code != 128+int(sig) || stderr.String() != want+"\n" {
		t.Errorf("%s after %v: exit %d, stderr %q; want exit %d, %q", strings.Join(cmd.Args[1:], " "), sig, code, stderr.String(), 128+int(sig), want)
	}
}

// startInterruptible starts strata ARGS in dir with stdout piped (read
// it to know how far the command got) and stderr kept.
func startInterruptible(t *testing.T, dir string, stdin io.Reader, args ...string) (*exec.Cmd, *bufio.Scanner, *strings.Builder) {
	t.Helper()
	cmd := strataCmd(dir, args...)
	cmd.Stdin = stdin
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &strings.Builder{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, bufio.NewScanner(out), stderr
}

// TestInterruptedWhileWaitingOnARun: logs -f, stats, wait, stop -t and
// restart -t wait on a run for as long as it runs; Ctrl-C or SIGTERM ends the
// wait with "interrupted" and 130 or 143 (they went on until SIGKILL).
// stop and restart say that the run had SIGTERM and may still be running.
func TestInterruptedWhileWaitingOnARun(t *testing.T) {
	dir := busyboxRepo(t)
	// pid 1 of the run prints "term" on SIGTERM and goes on.
	startService(t, dir, "--name", "svc", "--rev", "main", "--", "sh", "-c", "trap 'echo term' TERM; while :; do echo tick; sleep 1; done")
	startService(t, dir, "--name", "quick", "--rev", "main", "--", "true")
	mustStrata(t, dir, "wait", "quick")
	terms := func() int {
		b, _ := strataCmd(dir, "logs", "svc").Output()
		return strings.Count(string(b), "term\n")
	}

	// logs -f: it printed a line, so it follows.
	cmd, out, stderr := startInterruptible(t, dir, nil, "logs", "-f", "svc")
	if !out.Scan() || out.Text() != "tick" {
		t.Fatalf("logs -f printed %q, want tick", out.Text())
	}
	interruptedExit(t, cmd, stderr, syscall.SIGINT, "strata: logs: interrupted")

	// stats: it refreshes, each frame on a cleared screen, as docker's.
	cmd, out, stderr = startInterruptible(t, dir, nil, "stats", "svc")
	for frame := 0; frame < 2; frame++ {
		if !out.Scan() || !strings.HasPrefix(out.Text(), "\x1b[2J\x1b[HNAME ") {
			t.Fatalf("stats frame %d began %q, want a cleared screen and the title", frame, out.Text())
		}
		if !out.Scan() || !strings.HasPrefix(out.Text(), "svc ") {
			t.Fatalf("stats frame %d went on %q, want svc's row", frame, out.Text())
		}
	}
	interruptedExit(t, cmd, stderr, syscall.SIGINT, "strata: stats: interrupted")

	// wait: quick's code printed, it waits on svc.
	cmd, out, stderr = startInterruptible(t, dir, nil, "wait", "quick", "svc")
	if !out.Scan() || out.Text() != "0" {
		t.Fatalf("wait printed %q, want quick's 0", out.Text())
	}
	interruptedExit(t, cmd, stderr, syscall.SIGTERM, "strata: wait: interrupted")

	// stop and restart: the run had their SIGTERM, which it ignores.
	for i, c := range []struct{ verb, want string }{
		{"stop", "strata: stop: svc: interrupted; it had SIGTERM, not SIGKILL, and may still be running ('strata kill svc' ends it)"},
		{"restart", "strata: restart: svc: interrupted; it had SIGTERM, not SIGKILL, and may still be running ('strata kill svc' ends it); not started again"},
	} {
		cmd, _, stderr = startInterruptible(t, dir, nil, c.verb, "-t", "600", "svc")
		eventually(t, c.verb+"'s SIGTERM reaching the run", func() bool { return terms() > i })
		interruptedExit(t, cmd, stderr, syscall.SIGINT, c.want)
	}
}

// readingStdin reports whether a thread of process pid is blocked in
// read(0, ...).
func readingStdin(pid int) bool {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/syscall", pid))
	for _, p := range tasks {
		b, _ := os.ReadFile(p)
		if f := strings.Fields(string(b)); len(f) > 1 && f[0] == strconv.Itoa(syscall.SYS_READ) && f[1] == "0x0" {
			return true
		}
	}
	return false
}

// TestInterruptedWhileReadingStdin: login --password-stdin, import - and
// build -f - read standard input; Ctrl-C or SIGTERM while they wait for
// it ends them with "interrupted" and 130 or 143 (they went on waiting).
func TestInterruptedWhileReadingStdin(t *testing.T) {
	dir := t.TempDir()
	strataOK(t, dir, "init")
	for _, c := range []struct {
		sig  syscall.Signal
		args []string
		want string
	}{
		{syscall.SIGINT, []string{"login", "-u", "u", "--password-stdin", "127.0.0.1:1"}, "strata: login: read the password: interrupted"},
		{syscall.SIGTERM, []string{"import", "-", "-b", "x"}, "strata: import -: interrupted"},
		{syscall.SIGINT, []string{"build", "-f", "-", "."}, "strata: build: Dockerfile: interrupted"},
	} {
		// The pipe stays open: a read of it waits for ever.
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		cmd, _, stderr := startInterruptible(t, dir, r, c.args...)
		r.Close()
		eventually(t, strings.Join(c.args, " ")+" reading its standard input", func() bool { return readingStdin(cmd.Process.Pid) })
		interruptedExit(t, cmd, stderr, c.sig, c.want)
	}
}
