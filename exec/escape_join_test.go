package exec

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// What a container reaches of a strata exec (Join) into it.

// TestJoinRunsASealedNsenter: Join's way through nsenter, taken for a
// container that may ptrace, runs nsenter from a sealed copy. Its child
// runs in the container's PID namespace, and such a container opened the
// child's /proc/<pid>/exe (O_PATH) and, once no nsenter ran, reopened it
// for writing: the host's nsenter, which root runs at the next exec. The
// parent nsenter runs the same file for as long as the command does, so
// it is looked at from here.
func TestJoinRunsASealedNsenter(t *testing.T) {
	useSmallInit(t)
	pid, root := startJoinable(t, func(s *Spec) { s.CapAdd = []string{"SYS_PTRACE"} }, "touch /ready; exec sleep 1000")
	wantPidfd(t, pid, false, false)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan result, 1)
	go func() {
		code, err := Join(ctx, pid, Spec{Args: []string{"sh", "-c", "touch /joined; exec sleep 1000"}, Stdout: io.Discard, Stderr: io.Discard})
		done <- result{code: code, err: err}
	}()
	defer func() { cancel(); <-done }()
	waitFile(t, filepath.Join(root, "joined"))
	exe := ""
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		target, _ := os.Readlink("/proc/" + e.Name() + "/exe")
		if err != nil || !strings.Contains(target, "nsenter") {
			continue
		}
		// The fourth field is the parent's pid (the command name, the
		// second, has no space here).
		if f := strings.Fields(string(stat)); len(f) > 3 && f[3] == strconv.Itoa(os.Getpid()) {
			exe = "/proc/" + e.Name() + "/exe"
		}
	}
	if exe == "" {
		t.Fatal("no nsenter of this process runs")
	}
	target, _ := os.Readlink(exe)
	f, err := os.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seals, err := unix.FcntlInt(f.Fd(), unix.F_GET_SEALS, 0)
	if err != nil || seals&unix.F_SEAL_WRITE == 0 {
		t.Errorf("nsenter runs from %s, not a sealed copy (seals %#x, %v)", target, seals, err)
	}
}

// TestJoinedCommandLeadsItsOwnSession: a joined command is the leader of
// a session of its own, as Run's command is, every way in. On the init's
// and nsenter's ways it stayed in the caller's session, with the caller's
// terminal as its controlling one: strata exec (no -t) from a shell let
// the container's program push input into that shell with TIOCSTI, run
// as the caller once strata exec returned.
func TestJoinedCommandLeadsItsOwnSession(t *testing.T) {
	for _, way := range joinWays {
		t.Run(way, func(t *testing.T) {
			joinWay(t, way)
			pid, _ := startJoinable(t, nil, "touch /ready; exec sleep 1000")
			r := join(t, pid, nil, "cat", "/proc/self/stat")
			if r.code != 0 || r.err != nil {
				t.Fatalf("code %d err %v stderr %q", r.code, r.err, r.stderr)
			}
			// pid (comm) state ppid pgrp session ...: comm is "cat".
			f := strings.Fields(r.stdout)
			if len(f) < 6 || f[5] != f[0] {
				t.Errorf("the command is not its session's leader: %q", r.stdout)
			}
		})
	}
}

// TestJoinIgnoresAProcTheContainerMounted: on nsenter's way in (taken
// for a container with a user namespace of its own), nsenter executed
// the init as /proc/self/fd/5 in the container's root, where /proc is
// the container's to mount over: root in its own user namespace, with
// --cap-add SYS_ADMIN (no privilege on the host there), a rootless
// container bind-mounted a directory of its own there, and the program
// it put at self/fd/5 ran as the host's root with every capability when
// root ran strata exec into it. nsenter now keeps the host's root to
// execute the init, which then enters the container's.
func TestJoinIgnoresAProcTheContainerMounted(t *testing.T) {
	useSmallInit(t)
	dir := rootlessDir(t)
	root := filepath.Join(dir, "rootfs")
	script := `mkdir -p /tmp/realproc /tmp/fake/self/fd && mount -t proc proc /tmp/realproc &&
printf '#!/bin/sh\ncat /tmp/realproc/self/uid_map >/tmp/pwned\n' >/tmp/fake/self/fd/5 && chmod 755 /tmp/fake/self/fd/5 &&
mount --bind /tmp/fake /proc && touch /tmp/ready; exec sleep 1001`
	startAsUser(t, dir, Spec{Root: root, Network: NetworkNone, CapAdd: []string{"SYS_ADMIN"},
		Args: []string{"sh", "-c", script}})
	waitFile(t, filepath.Join(root, "tmp/ready"))
	pid := pidRunning(t, "sleep\x001001\x00")
	r := join(t, pid, nil, "cat", "/tmp/ready")
	if b, err := os.ReadFile(filepath.Join(root, "tmp/pwned")); err == nil {
		t.Fatalf("the container's /proc/self/fd/5 ran as the joined init, with the uid map %q", b)
	}
	if r.code != 0 || r.err != nil {
		t.Fatalf("code %d err %v stderr %q", r.code, r.err, r.stderr)
	}
}
