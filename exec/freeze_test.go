package exec

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strata-sh/strata/internal/testrootfs"
)

func TestFreeze(t *testing.T) { testFreeze(t) }

// testFreeze: a container counting in a loop stops counting while frozen
// (and the kernel says FROZEN), and counts again after thaw.
func testFreeze(t *testing.T) {
	root := testrootfs.Busybox(t)
	id := "freeze-test-" + randomHex(4)
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan result, 1)
	go func() {
		code, err := Run(ctx, Spec{ID: id, Root: root, Stdout: pw, Args: []string{"sh", "-c",
			"i=0; echo up; while :; do i=$((i+1)); echo $i > /tmp/count; done"}})
		pw.Close()
		done <- result{code: code, err: err}
	}()
	t.Cleanup(func() {
		cancel()
		go io.Copy(io.Discard, pr)
		<-done
	})
	if l, _ := bufio.NewReader(pr).ReadString('\n'); l != "up\n" {
		t.Fatalf("container said %q", l)
	}
	count := func() string {
		b, _ := os.ReadFile(filepath.Join(root, "tmp/count"))
		return strings.TrimSpace(string(b))
	}
	waitChange := func(from string) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			if c := count(); c != "" && c != from {
				return
			}
		}
		t.Fatalf("counter stuck at %q", from)
	}
	waitChange("")

	// A second container may not take the id while this one runs.
	if r := run(t, root, func(s *Spec) { s.ID = id }, "true"); r.code != CodeRuntime || r.err == nil || !strings.Contains(r.err.Error(), "in use") {
		t.Errorf("second run with id %s: code %d err %v", id, r.code, r.err)
	}

	thaw, err := Freeze(id)
	if err != nil {
		t.Fatal(err)
	}
	dir, v2 := freezerDir(id)
	state := func() string {
		if v2 {
			b, _ := os.ReadFile(filepath.Join(dir, "cgroup.events"))
			return strings.TrimSpace(string(b))
		}
		b, _ := os.ReadFile(filepath.Join(dir, "freezer.state"))
		return strings.TrimSpace(string(b))
	}
	if s := state(); s != "FROZEN" && !strings.Contains(s, "frozen 1") {
		t.Errorf("after Freeze the cgroup says %q", s)
	}
	frozenAt := count()
	time.Sleep(50 * time.Millisecond)
	if c := count(); c != frozenAt {
		t.Errorf("frozen container counted on: %s then %s", frozenAt, c)
	}
	if err := thaw(); err != nil {
		t.Fatal(err)
	}
	waitChange(frozenAt)
	if s := state(); s != "THAWED" && !strings.Contains(s, "frozen 0") {
		t.Errorf("after thaw the cgroup says %q", s)
	}
}

func TestFreezeNotRunning(t *testing.T) {
	if _, err := Freeze("no-such-container"); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Freeze of a missing container: %v, want ErrNotRunning", err)
	}
	if _, err := Freeze("../escape"); err == nil || errors.Is(err, ErrNotRunning) {
		t.Fatalf("Freeze with a path as id: %v, want an id error", err)
	}
	if r := run(t, busybox(t), func(s *Spec) { s.ID = "a/b" }, "true"); r.code != CodeRuntime || r.err == nil {
		t.Fatalf("run with id a/b: code %d err %v", r.code, r.err)
	}
}
