package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
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
