package exec

import (
	"bytes"
	"context"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/strata-sh/strata/internal/testrootfs"
	"golang.org/x/sys/unix"
)

// What a container reaches of a strata exec (Join) into it.

// TestJoinShowsTheContainerNothingUnconfined: on nsenter's way, taken
// for a container that may ptrace, no process of the exec appears in the
// container's PID namespace before it is confined. nsenter forked its
// child there, which ran the joined init with every capability strata
// holds, rooted at nsenter's descriptor directory on the host's /proc:
// a process of the container read a host file through
// /proc/<child>/root/../../.. (and could have written one), or could
// trace the child, or reopen its /proc/<pid>/exe, nsenter's binary, for
// writing. The join is held here while the init waits for its config,
// and the container scans its /proc meanwhile.
func TestJoinShowsTheContainerNothingUnconfined(t *testing.T) {
	useSmallInit(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(t.TempDir(), "marker")
	if err := os.WriteFile(marker, []byte("a host file"), 0o600); err != nil {
		t.Fatal(err)
	}
	pid, root := startJoinable(t, func(s *Spec) {
		s.CapAdd = []string{"SYS_PTRACE"}
		if err := testrootfs.InstallBinary(self, s.Root, "/bin/probe"); err != nil {
			t.Fatal(err)
		}
	}, "touch /ready; "+helperEnv+"=rootwalk exec /bin/probe "+marker)
	wantPidfd(t, pid, false, false)
	bnd, err := capField(pid, "CapBnd")
	if err != nil {
		t.Fatal(err)
	}
	defer func(old func(int)) { joinStarted = old }(joinStarted)
	joinStarted = func(joined int) {
		if !waitJoinedInit(joined) {
			t.Errorf("the joined init of %d never ran", joined)
			return
		}
		waitScans(t, root, 2)
		for _, p := range inPidNamespaceOf(pid) {
			if eff, err := capField(p, "CapEff"); err == nil && eff&^bnd != 0 {
				comm, _ := os.ReadFile("/proc/" + strconv.Itoa(p) + "/comm")
				t.Errorf("process %d (%s) in the container's PID namespace holds capabilities %#x beyond the container's %#x",
					p, strings.TrimSpace(string(comm)), eff, bnd)
			}
		}
	}
	r := join(t, pid, nil, "true")
	if r.code != 0 || r.err != nil {
		t.Fatalf("code %d err %v stderr %q", r.code, r.err, r.stderr)
	}
	if b, err := os.ReadFile(filepath.Join(root, "found")); err == nil {
		t.Errorf("the container read a host file through a joining process:\n%s", b)
	}
}

// TestJoinForksTheCommandWithNoDescriptorOfTheCaller: on nsenter's way,
// the command the joined init forks into the container holds no
// descriptor that strata's caller left open without close-on-exec, in
// the moment before its execve (which would close it). A container that
// may ptrace, as those that take nsenter's way may, stopped it there and
// read a host file through a directory the caller held: /proc/PID/fd/N
// leads out of the container. The container stops every process still
// named strata-exec and reads through its directories while this test
// joins it until it has caught one.
func TestJoinForksTheCommandWithNoDescriptorOfTheCaller(t *testing.T) {
	hostDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(hostDir, "marker"), []byte("a host file"), 0o600); err != nil {
		t.Fatal(err)
	}
	pid, root := startCatcher(t, "fdwalk", "marker")
	// A directory of the host, open without close-on-exec above the
	// descriptors strata passes, as a caller's shell may leave one
	// (opened after Run, whose direct start marks every descriptor of
	// this process close-on-exec).
	dir, err := unix.Open(hostDir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	inherited, err := unix.FcntlInt(uintptr(dir), unix.F_DUPFD, 100)
	unix.Close(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(inherited)
	joinUntilCaught(t, root, func(int) {
		if r := join(t, pid, nil, "true"); r.code != 0 || r.err != nil {
			t.Fatalf("code %d err %v stderr %q", r.code, r.err, r.stderr)
		}
	})
	if b, err := os.ReadFile(filepath.Join(root, "found")); err == nil {
		t.Errorf("the container read a host file through a descriptor of the joined command:\n%s", b)
	}
}

// TestJoinEndsWhateverTheContainerHolds: on nsenter's way, a join ends
// when its command does, whatever pipe of the command's a process of the
// container took before its execve. The joined init learnt that the
// command had executed from the end of its exec-error pipe: a container
// that may ptrace stopped the command before its execve, took a copy of
// that pipe's write end (pidfd_getfd) and kept it, and the init waited
// for an end that never came, the command unreaped, and strata exec
// with it, until it was killed. The container takes what it can from
// every joined command it catches while this test joins it until it has
// caught one.
func TestJoinEndsWhateverTheContainerHolds(t *testing.T) {
	pid, root := startCatcher(t, "pipehold")
	joinUntilCaught(t, root, func(joins int) {
		if r := join(t, pid, nil, "true"); r.code != 0 || r.err != nil {
			t.Fatalf("join %d: code %d err %v stderr %q", joins, r.code, r.err, r.stderr)
		}
	})
}

// startCatcher starts a container that may ptrace (so joins take
// nsenter's way) running the probe in helper mode mode, with args: one
// that catches joined commands before their execve
// (catchUnexecutedJoins). It returns the container's pid and root.
func startCatcher(t *testing.T, mode string, args ...string) (int, string) {
	t.Helper()
	useSmallInit(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	pid, root := startJoinable(t, func(s *Spec) {
		s.CapAdd = []string{"SYS_PTRACE"}
		if err := testrootfs.InstallBinary(self, s.Root, "/bin/probe"); err != nil {
			t.Fatal(err)
		}
	}, "touch /ready; "+helperEnv+"="+mode+" exec /bin/probe "+strings.Join(args, " "))
	wantPidfd(t, pid, false, false)
	return pid, root
}

// joinUntilCaught calls joinOnce (which joins the container of root and
// checks what came of it) until the container's catcher has caught a
// joined command; none caught in 200 joins fails the test.
func joinUntilCaught(t *testing.T, root string, joinOnce func(joins int)) {
	t.Helper()
	caught := func() bool {
		_, err := os.Stat(filepath.Join(root, "caught"))
		return err == nil
	}
	joins := 0
	for ; joins < 200 && !caught(); joins++ {
		joinOnce(joins)
	}
	if !caught() {
		t.Fatalf("the container never caught a joined command before its execve in %d joins", joins)
	}
}

// TestJoinEntersNoRecycledPid: a join whose container's pid 1 ends, and
// whose pid another process takes, before strata has opened what it
// enters (its /proc files, nsenter -t) fails; it entered that process
// instead, whatever it was. Here the pid goes to a process of the host
// (the kernel's ns_last_pid picks it), and the command ran on the host,
// at its root, reading a host file.
func TestJoinEntersNoRecycledPid(t *testing.T) {
	useSmallInit(t)
	hostDir := t.TempDir()
	marker := filepath.Join(hostDir, "marker")
	if err := os.WriteFile(marker, []byte("a host file"), 0o600); err != nil {
		t.Fatal(err)
	}
	pid, _ := startJoinable(t, func(s *Spec) { s.CapAdd = []string{"SYS_PTRACE"} }, "touch /ready; exec sleep 600")
	wantPidfd(t, pid, false, false)
	defer func(old func(int)) { joinHolding = old }(joinHolding)
	joinHolding = func(int) { replacePid(t, pid) }
	r := join(t, pid, nil, "cat", marker)
	if r.stdout != "" || r.code != CodeRuntime {
		t.Errorf("joined the process that took the container's pid: code %d, stdout %q, err %v", r.code, r.stdout, r.err)
	}
}

// TestJoinOfAnEndedContainerRunsNothing: a join whose container's pid 1
// ends, and whose pid another process takes, once strata has opened
// what it enters (after stillHeld, while the joined init waits for its
// config) runs its command nowhere: neither in the process that took
// the pid (here one of the host's, where the command would read a host
// file) nor in the container's PID namespace, which ended with its pid 1.
func TestJoinOfAnEndedContainerRunsNothing(t *testing.T) {
	useSmallInit(t)
	marker := filepath.Join(t.TempDir(), "marker")
	if err := os.WriteFile(marker, []byte("a host file"), 0o600); err != nil {
		t.Fatal(err)
	}
	pid, _ := startJoinable(t, func(s *Spec) { s.CapAdd = []string{"SYS_PTRACE"} }, "touch /ready; exec sleep 600")
	wantPidfd(t, pid, false, false)
	defer func(old func(int)) { joinStarted = old }(joinStarted)
	joinStarted = func(int) { replacePid(t, pid) }
	r := join(t, pid, nil, "cat", marker)
	// The run's end kills the joined init too, which had joined its
	// cgroups: 137, or an error if the init got as far as the fork.
	if r.stdout != "" || r.code == 0 {
		t.Errorf("joined a container whose pid 1 had ended: code %d, stdout %q, err %v", r.code, r.stdout, r.err)
	}
}

// replacePid ends the container process pid, waits until Run has reaped
// it, and has a process of the host take its pid (takePid).
func replacePid(t *testing.T, pid int) {
	unix.Kill(pid, unix.SIGKILL)
	for _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err == nil; _, err = os.Stat("/proc/" + strconv.Itoa(pid)) {
		time.Sleep(10 * time.Millisecond) // until Run has reaped it
	}
	takePid(t, pid)
}

// TestJoinRefusesAPidOfAnotherParent: Join enters no process whose
// parent, once held, is not the Parent it was given (the run's
// supervisor, which strata exec checked before): the container's pid 1
// may have ended, and its pid gone to another process, since then. Here
// the pid is a process of the host's, which Join entered: the command
// read a host file.
func TestJoinRefusesAPidOfAnotherParent(t *testing.T) {
	useSmallInit(t)
	marker := filepath.Join(t.TempDir(), "marker")
	if err := os.WriteFile(marker, []byte("a host file"), 0o600); err != nil {
		t.Fatal(err)
	}
	other := osexec.Command("sleep", "600")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { other.Process.Kill(); other.Wait() }()
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code, err := Join(ctx, other.Process.Pid, Spec{Args: []string{"cat", marker}, Parent: 1, Stdout: &out, Stderr: &out})
	if code != CodeRuntime || err == nil || !strings.Contains(err.Error(), "its parent is") {
		t.Errorf("joined a process whose parent is not the one given: code %d, err %v, output %q", code, err, out.String())
	}
}

// takePid makes pid a process of the host's: one it starts (stopped at
// the test's end), or one of the machine that took the pid first, which
// serves the test as well; it only waits out those that end at once.
func takePid(t *testing.T, pid int) {
	t.Helper()
	for tries := 0; tries < 100; tries++ {
		if tries > 0 {
			if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err == nil && tries >= 10 {
				return // another process of the machine holds it still
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err := os.WriteFile("/proc/sys/kernel/ns_last_pid", []byte(strconv.Itoa(pid-1)), 0); err != nil {
			t.Fatal(err)
		}
		c := osexec.Command("sleep", "600")
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		if c.Process.Pid == pid {
			t.Cleanup(func() { c.Process.Kill(); c.Wait() })
			return
		}
		c.Process.Kill() // another process of the machine came first
		c.Wait()
	}
	t.Fatalf("pid %d never came back: another process of the machine holds it", pid)
}

// waitJoinedInit waits until the joined init (named strata-exec) runs as
// pid or as a child of it, as nsenter's child did.
func waitJoinedInit(pid int) bool {
	p := strconv.Itoa(pid)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		pids := []string{p}
		if b, err := os.ReadFile("/proc/" + p + "/task/" + p + "/children"); err == nil {
			pids = append(pids, strings.Fields(string(b))...)
		}
		for _, q := range pids {
			if comm, _ := os.ReadFile("/proc/" + q + "/comm"); string(comm) == "strata-exec\n" {
				return true
			}
		}
	}
	return false
}

// waitScans waits until the rootwalk probe in root has scanned its /proc
// n more times.
func waitScans(t *testing.T, root string, n int) {
	t.Helper()
	scans := func() int {
		b, _ := os.ReadFile(filepath.Join(root, "scans"))
		v, _ := strconv.Atoi(string(b))
		return v
	}
	want := scans() + n
	for deadline := time.Now().Add(30 * time.Second); scans() < want; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Errorf("the probe in the container did not scan /proc %d more times", n)
			return
		}
	}
}

// inPidNamespaceOf lists the host pids of the processes in pid's PID
// namespace.
func inPidNamespaceOf(pid int) []int {
	ns, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/pid")
	if err != nil {
		return nil
	}
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if theirs, err := os.Readlink("/proc/" + e.Name() + "/ns/pid"); err == nil && theirs == ns {
			pids = append(pids, p)
		}
	}
	return pids
}

// capField reads a capability mask (CapEff, CapBnd...) of pid.
func capField(pid int, field string) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(statusOf(string(b))[field], 16, 64)
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
			// With a terminal, its pty is the session's controlling
			// terminal (tty_nr, the seventh field).
			var out bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			code, err := Join(ctx, pid, Spec{Args: []string{"cat", "/proc/self/stat"}, Terminal: true, Stdout: &out})
			if f = strings.Fields(out.String()); code != 0 || err != nil || len(f) < 7 || f[5] != f[0] || f[6] == "0" {
				t.Errorf("with a terminal: code %d err %v, stat %q: want the leader of a session with its pty", code, err, out.String())
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
	runner := startAsUser(t, dir, Spec{Root: root, Network: NetworkNone, CapAdd: []string{"SYS_ADMIN"},
		Args: []string{"sh", "-c", script}})
	waitFile(t, filepath.Join(root, "tmp/ready"))
	pid := descendantRunning(t, runner, "sleep\x001001\x00")
	r := join(t, pid, nil, "cat", "/tmp/ready")
	if b, err := os.ReadFile(filepath.Join(root, "tmp/pwned")); err == nil {
		t.Fatalf("the container's /proc/self/fd/5 ran as the joined init, with the uid map %q", b)
	}
	if r.code != 0 || r.err != nil {
		t.Fatalf("code %d err %v stderr %q", r.code, r.err, r.stderr)
	}
}
