package exec

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strata-sh/strata/internal/testrootfs"
)

func TestMain(m *testing.M) {
	Reexec()
	helperMain()
	runnerMain()
	specRunnerMain()
	freezerMain()
	mainThreadMain()
	noTraceMain()
	chrootMain()
	if os.Geteuid() != 0 {
		// The runtime tests need root; say so instead of passing silently.
		os.Stderr.WriteString("exec tests must run as root\n")
		os.Exit(1)
	}
	code := m.Run()
	if sharedRoot.dir != "" {
		os.RemoveAll(filepath.Dir(sharedRoot.dir))
	}
	os.Exit(code)
}

// result is what one container run produced.
type result struct {
	code           int
	err            error
	stdout, stderr string
}

// run runs args in a container on root with the spec's other fields from
// mod, and a 5 min safety timeout: a hang fails, not a slow machine
// (TestStreaming100MB's cat took over 60 s in the cgroup-v2 VM under TCG
// on a loaded host, and the old 60 s timeout killed it).
func run(t testing.TB, root string, mod func(*Spec), args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	spec := Spec{Root: root, Args: args, Stdout: &out, Stderr: &errb}
	if mod != nil {
		mod(&spec)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	code, err := Run(ctx, spec)
	return result{code: code, err: err, stdout: out.String(), stderr: errb.String()}
}

// resultWithin returns what f returns, or fails the test if f still runs
// after 2 min (a start or join that hangs: f is left running; TCG on a
// loaded host is slow, so the bound is wide).
func resultWithin(t testing.TB, what string, f func() result) result {
	t.Helper()
	done := make(chan result, 1)
	go func() { done <- f() }()
	select {
	case r := <-done:
		return r
	case <-time.After(2 * time.Minute):
		t.Fatalf("%s still runs after 2 min", what)
		return result{}
	}
}

func sh(t testing.TB, root string, mod func(*Spec), script string) result {
	t.Helper()
	return run(t, root, mod, "/bin/sh", "-c", script)
}

func mustSh(t testing.TB, root string, mod func(*Spec), script string) string {
	t.Helper()
	r := sh(t, root, mod, script)
	if r.err != nil || r.code != 0 {
		t.Fatalf("sh -c %q: code %d, err %v, stderr %q, stdout %q", script, r.code, r.err, r.stderr, r.stdout)
	}
	return r.stdout
}

var sharedRoot struct {
	dir string
}

// busybox returns a busybox root shared by tests that do not change it.
func busybox(t testing.TB) string {
	t.Helper()
	if sharedRoot.dir == "" {
		dir, err := os.MkdirTemp("", "strata-exec-test-")
		if err != nil {
			t.Fatal(err)
		}
		if err := testrootfs.BuildBusybox(dir + "/rootfs"); err != nil {
			t.Fatal(err)
		}
		sharedRoot.dir = dir + "/rootfs"
	}
	return sharedRoot.dir
}

func TestEcho(t *testing.T) {
	out := mustSh(t, busybox(t), nil, "echo hello; id -u")
	if strings.TrimSpace(out) != "hello\n0" {
		t.Fatalf("got %q", out)
	}
}
