package exec

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/strata-sh/strata/internal/testrootfs"
	"golang.org/x/sys/unix"
)

// startJoinable starts script as pid 1 of a container on a new busybox
// root, with the spec's other fields from mod, and returns its host pid
// and root once the file /ready exists in it. The container is killed
// when the test ends.
func startJoinable(t *testing.T, mod func(*Spec), script string) (int, string) {
	t.Helper()
	root := filepath.Join(t.TempDir(), "rootfs")
	if err := testrootfs.BuildBusybox(root); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	started, done := make(chan int, 1), make(chan struct{})
	var stderr bytes.Buffer
	go func() {
		defer close(done)
		spec := Spec{Root: root, Args: []string{"/bin/sh", "-c", script}, Stdout: io.Discard, Stderr: &stderr,
			Started: func(pid int) { started <- pid }}
		if mod != nil {
			mod(&spec)
		}
		Run(ctx, spec)
	}()
	t.Cleanup(func() { cancel(); <-done })
	var pid int
	select {
	case pid = <-started:
	case <-done:
		t.Fatalf("the container ended: %s", stderr.String())
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(root, "ready")); err == nil {
			return pid, root
		}
		if time.Now().After(deadline) {
			t.Fatalf("the container never got ready: %s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitCmdline waits until pid's command line is want (NUL-terminated
// arguments).
func waitCmdline(t *testing.T, pid int, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if err == nil && string(b) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pid %d runs %q, never %q", pid, b, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// join runs args in the container of pid, as strata exec does for a run
// of capAdd.
func join(t *testing.T, pid int, capAdd []string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code, err := Join(ctx, pid, Spec{Args: args, CapAdd: capAdd, Stdout: &out, Stderr: &errb})
	return result{code: code, err: err, stdout: out.String(), stderr: errb.String()}
}

// joinWays are the ways into a container (see Join).
var joinWays = []string{"direct", "init", "nsenter"}

// joinWay makes Join take the way in named: "direct" (a thread of this
// process forks the command; skipped on cgroup v2, where it cannot),
// "init" (a thread forks the init into the container, which enters the
// namespaces itself) or "nsenter" (nsenter and the init, into a container
// started from the init).
func joinWay(t *testing.T, way string) {
	t.Helper()
	switch way {
	case "direct":
		if cgroupV2() {
			t.Skip("a thread forks the command itself on cgroup v1 only")
		}
	case "init":
		useSmallInit(t)
		joinByInit = true
		t.Cleanup(func() { joinByInit = false })
	case "nsenter":
		throughInit(t)
		useSmallInit(t)
		setnsJoins = false
		t.Cleanup(func() { setnsJoins = true })
	default:
		t.Fatalf("no way %q", way)
	}
}

// wantPidfd checks whether Join would go in through a pidfd of pid (the
// thread's or the init's way) rather than through nsenter.
func wantPidfd(t *testing.T, pid int, ptrace, want bool) {
	t.Helper()
	target, ok, err := joinTargetOf(pid, ptrace)
	if ok {
		unix.Close(target.pidfd)
	}
	if err != nil || ok != want {
		t.Fatalf("join through a pidfd: %v, %v; want %v", ok, err, want)
	}
}

// statusOf parses a /proc/<pid>/status.
func statusOf(status string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(status, "\n") {
		if k, v, ok := strings.Cut(line, ":\t"); ok {
			m[k] = v
		}
	}
	return m
}

// TestJoin: a joined process gets what the container's pid 1 has (its
// namespaces, capabilities, no_new_privs, seccomp, the root of its cgroup
// namespace), its exit code comes back, and a command that cannot start
// fails with docker's code. Every way in (joinWays).
func TestJoin(t *testing.T) {
	for _, way := range joinWays {
		t.Run(way, func(t *testing.T) {
			joinWay(t, way)
			pid, _ := startJoinable(t, nil, "touch /ready; exec sleep 1000")
			// /ready comes before the exec: pid 1 may be sh a moment longer.
			waitCmdline(t, pid, "sleep\x001000\x00")
			wantPidfd(t, pid, false, way != "nsenter")
			pid1, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
			if err != nil {
				t.Fatal(err)
			}
			want := statusOf(string(pid1))
			r := join(t, pid, nil, "sh", "-c", "cat /proc/self/status /proc/self/cgroup; tr '\\0' ' ' </proc/1/cmdline; exit 4")
			if r.code != 4 || r.err != nil {
				t.Fatalf("code %d err %v stderr %q, want the command's 4", r.code, r.err, r.stderr)
			}
			got := statusOf(r.stdout)
			for _, k := range []string{"CapEff", "CapBnd", "CapPrm", "CapInh", "CapAmb", "NoNewPrivs", "Seccomp"} {
				if got[k] != want[k] {
					t.Errorf("%s: joined %q, pid 1 %q", k, got[k], want[k])
				}
			}
			if want["Seccomp"] != "2" || want["NoNewPrivs"] != "1" {
				t.Fatalf("the container itself is not confined: %v", want)
			}
			// Every hierarchy's line ("0::/" on v2) shows the root of the
			// container's cgroup namespace.
			cgroupLines := 0
			for _, line := range strings.Split(r.stdout, "\n") {
				if f := strings.SplitN(line, ":", 3); len(f) == 3 && f[0] != "" && strings.Trim(f[0], "0123456789") == "" {
					cgroupLines++
					if f[2] != "/" {
						t.Errorf("not at the root of the container's cgroup namespace: %q", line)
					}
				}
			}
			if cgroupLines == 0 {
				t.Errorf("no /proc/self/cgroup in the output:\n%s", r.stdout)
			}
			if !strings.HasSuffix(r.stdout, "\nsleep 1000 ") {
				t.Errorf("pid 1 of the joined PID namespace is not the container's sleep:\n%s", r.stdout)
			}
			for _, c := range []struct {
				args []string
				code int
			}{{[]string{"/nonexistent"}, CodeNotFound}, {[]string{"/etc/passwd"}, CodeNotExecutable}} {
				r := join(t, pid, nil, c.args...)
				if r.code != c.code || r.err == nil || strings.Contains(r.err.Error(), "\n") {
					t.Errorf("%v: code %d err %v, want %d and a one-line error", c.args, r.code, r.err, c.code)
				}
			}
		})
	}
}

// TestJoinKeepsStrataOutOfReach: Go forks with CLONE_VM, so until its
// execve a child forked into a container shares all of strata's memory.
// A process of the container that holds CAP_SYS_PTRACE could open it
// through /proc/PID/mem and write into strata on the host (a review did,
// from a run with --cap-add SYS_PTRACE). So such a container, or a
// command given the capability, is joined through nsenter, which forks
// without CLONE_VM; and strata is non-dumpable before it forks into any
// other, so that a process running as the command's user (after a -u
// change, the child holds no capability) cannot open it either.
func TestJoinKeepsStrataOutOfReach(t *testing.T) {
	useSmallInit(t)
	for _, tc := range []struct {
		name    string
		mod     func(*Spec)
		ptrace  bool // the joined command is given CAP_SYS_PTRACE
		byPidfd bool
	}{
		{"plain", nil, false, true},
		{"cap-add", func(s *Spec) { s.CapAdd = []string{"SYS_PTRACE"} }, false, false},
		{"privileged", func(s *Spec) { s.Privileged = true }, false, false},
		{"exec-cap-add", nil, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pid, _ := startJoinable(t, tc.mod, "touch /ready; exec sleep 1000")
			wantPidfd(t, pid, tc.ptrace, tc.byPidfd)
			var add []string
			if tc.ptrace {
				add = []string{"SYS_PTRACE"}
			}
			if r := join(t, pid, add, "true"); r.code != 0 || r.err != nil {
				t.Fatalf("code %d err %v stderr %q", r.code, r.err, r.stderr)
			}
			if tc.byPidfd {
				if d, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0); err != nil || d != 0 {
					t.Fatalf("strata is dumpable (%d, %v) after forking into a container", d, err)
				}
			}
		})
	}
}

// TestJoinIgnoresTheContainersProc: a container that may mount
// (CAP_SYS_ADMIN) lays "0" over /proc/sys/kernel/cap_last_cap. A process
// joining it runs in its mount namespace, and must still get the
// container's bounding set, not every capability strata holds.
func TestJoinIgnoresTheContainersProc(t *testing.T) {
	for _, way := range joinWays {
		t.Run(way, func(t *testing.T) {
			joinWay(t, way)
			add := []string{"SYS_ADMIN"}
			pid, _ := startJoinable(t, func(s *Spec) { s.CapAdd = add },
				"echo 0 > /tmp/last && mount --bind /tmp/last /proc/sys/kernel/cap_last_cap && touch /ready; exec sleep 1000")
			r := join(t, pid, add, "sh", "-c", "cat /proc/sys/kernel/cap_last_cap /proc/self/status")
			if r.code != 0 || !strings.HasPrefix(r.stdout, "0\n") {
				t.Fatalf("code %d err %v stdout %q: the container's cap_last_cap is not the lie", r.code, r.err, r.stdout)
			}
			pid1, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
			if err != nil {
				t.Fatal(err)
			}
			want, got := statusOf(string(pid1))["CapBnd"], statusOf(r.stdout)["CapBnd"]
			if got != want {
				t.Fatalf("joined bounding set %s, the container's %s", got, want)
			}
		})
	}
}

// TestJoinOutlivesTheForkingThread: on the init's way in, the joined
// init is forked by a strata thread that ends right after. The command
// must not die with that thread (a parent-death signal would kill it).
// The thread is held until the command runs, then let go; the command
// ends only once the thread is gone.
func TestJoinOutlivesTheForkingThread(t *testing.T) {
	joinWay(t, "init")
	pid, root := startJoinable(t, nil, "touch /ready; exec sleep 1000")
	waitCmdline(t, pid, "sleep\x001000\x00")
	gone := make(chan error, 1)
	joinForked = func() {
		tid := unix.Gettid()
		go func() { gone <- waitThreadGone(tid, filepath.Join(root, "joined")) }()
		waitFile(t, filepath.Join(root, "joined"))
	}
	t.Cleanup(func() { joinForked = func() {} })
	done := make(chan result, 1)
	go func() {
		done <- join(t, pid, nil, "sh", "-c", "touch /joined; while [ ! -e /threadgone ]; do sleep 0.05; done; echo alive")
	}()
	if err := <-gone; err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "threadgone"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.code != 0 || r.err != nil || r.stdout != "alive\n" {
		t.Fatalf("code %d err %v stdout %q stderr %q: the command died with the thread that forked its init", r.code, r.err, r.stdout, r.stderr)
	}
}

// waitFile waits until path exists.
func waitFile(t *testing.T, path string) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%s never appeared", path)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitThreadGone waits until thread tid of this process has ended,
// once marker exists (the hook holds the thread until then).
func waitThreadGone(tid int, marker string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(marker); err == nil {
			if _, err := os.Stat(fmt.Sprintf("/proc/self/task/%d", tid)); os.IsNotExist(err) {
				return nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("thread %d never ended", tid)
}

// TestJoinLeavesTheCgroup: the thread that joins a container's cgroups
// leaves them once the command runs, as a direct start's does, and ends.
func TestJoinLeavesTheCgroup(t *testing.T) {
	requireDirect(t)
	pid, _ := startJoinable(t, nil, "touch /ready; exec sleep 1000")
	// The thread that started the container stays in its namespaces while
	// it runs (direct.go); the join's must not.
	starters := map[string]bool{}
	for _, l := range threadsInOtherNamespaces(t) {
		starters[l] = true
	}
	joiners := func() (left []string) {
		for _, l := range threadsInOtherNamespaces(t) {
			if !starters[l] {
				left = append(left, l)
			}
		}
		return left
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer inR.Close()
	defer inW.Close()
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer outR.Close()
	done := make(chan result, 1)
	go func() {
		code, err := Join(context.Background(), pid, Spec{Args: []string{"sh", "-c", "echo in; read x; echo $x"}, Stdin: inR, Stdout: outW})
		outW.Close()
		done <- result{code: code, err: err}
	}()
	// The command is in: it waits on stdin while the cgroups are read.
	out := bufio.NewReader(outR)
	if line, err := out.ReadString('\n'); line != "in\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	var cgroups []string
	for _, line := range strings.Split(mustRead(t, "/proc/"+strconv.Itoa(pid)+"/cgroup"), "\n") {
		// Its own, not those it shares with this process.
		if f := strings.SplitN(line, ":", 3); len(f) == 3 && strings.HasPrefix(filepath.Base(f[2]), cgroupPrefix) && !strings.HasPrefix(f[1], "name=") {
			cgroups = append(cgroups, filepath.Join(cgroupRoot, strings.Split(f[1], ",")[0], f[2]))
		}
	}
	if len(cgroups) == 0 {
		t.Fatal("the container has no cgroup of its own")
	}
	// The thread ends right after the fork, once scheduled: on a loaded
	// machine that can take seconds (the deadline only guards a hang).
	ours := func() (found []string) {
		for _, d := range cgroups {
			for _, tid := range strings.Fields(mustRead(t, filepath.Join(d, "tasks"))) {
				if _, err := os.Stat("/proc/self/task/" + tid); err == nil {
					found = append(found, d+": "+tid)
				}
			}
		}
		return found
	}
	stay := time.Now().Add(30 * time.Second)
	for len(ours()) > 0 && time.Now().Before(stay) {
		time.Sleep(10 * time.Millisecond)
	}
	if found := ours(); len(found) > 0 {
		t.Errorf("threads of strata in the container's cgroups while its command runs: %v", found)
	}
	inW.WriteString("out\n")
	rest, _ := io.ReadAll(out)
	res := <-done
	if res.code != 0 || res.err != nil || string(rest) != "out\n" {
		t.Fatalf("code %d err %v rest of stdout %q", res.code, res.err, rest)
	}
	// The thread ended: no thread of this process but the starter is left
	// in the container's namespaces. Not a count of this process's threads, which failed
	// under load ("10 threads before the join, 13 after it"): the runtime
	// keeps the idle threads it made meanwhile, no leak.
	deadline := time.Now().Add(30 * time.Second) // a hang guard
	for len(joiners()) > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if left := joiners(); len(left) > 0 {
		t.Errorf("after the join, threads still in the container's namespaces: %v", left)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestJoinStdioIsTheHosts: a joined command's stdio that the caller
// leaves unset is the host's /dev/null, not whatever the container put at
// its own /dev/null (here a FIFO, whose open would block strata forever).
func TestJoinStdioIsTheHosts(t *testing.T) {
	for _, way := range joinWays {
		t.Run(way, func(t *testing.T) {
			joinWay(t, way)
			pid, _ := startJoinable(t, nil, "rm -f /dev/null && mkfifo /dev/null && touch /ready; exec sleep 1000")
			r := resultWithin(t, "the join", func() result {
				code, err := Join(context.Background(), pid, Spec{Args: []string{"sh", "-c", "test -p /dev/null && read x; echo $?"}})
				return result{code: code, err: err}
			})
			if r.code != 0 || r.err != nil {
				t.Fatalf("code %d err %v", r.code, r.err)
			}
		})
	}
}

// TestJoinFallsBackToNsenter: where the kernel cannot setns through a
// pidfd (before Linux 5.8, stood in for here), Join takes nsenter's path,
// with the caller's spec as given (not the direct attempt's copy, whose
// /dev/null is closed by then): the streams it left unset are /dev/null.
// From both ways that use a pidfd.
func TestJoinFallsBackToNsenter(t *testing.T) {
	for _, way := range []string{"direct", "init"} {
		t.Run(way, func(t *testing.T) {
			joinWay(t, way)
			useSmallInit(t)
			pid, _ := startJoinable(t, nil, "touch /ready; exec sleep 1000")
			old, tried := setnsPidfd, 0
			setnsPidfd = func(int, int) error { tried++; return unix.EINVAL }
			t.Cleanup(func() { setnsPidfd = old })
			var out bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			code, err := Join(ctx, pid, Spec{Args: []string{"sh", "-c", "ls -l /proc/self/fd/0 /proc/self/fd/2"}, Stdout: &out})
			if code != 0 || err != nil || tried != 1 {
				t.Fatalf("code %d err %v stdout %q, setns through the pidfd tried %d times", code, err, out.String(), tried)
			}
			for _, fd := range []string{"0", "2"} {
				if !strings.Contains(out.String(), "/proc/self/fd/"+fd+" -> /dev/null\n") {
					t.Errorf("fd %s is not /dev/null:\n%s", fd, out.String())
				}
			}
		})
	}
}

// TestJoinEntersPid1sCgroups: a joined command is in every cgroup the
// container's pid 1 is in, as seen from inside; every way in. Where the
// host has v1 controllers and a v2 hierarchy beside them, pid 1 is first
// moved into a v2 cgroup of its own, which the command must be forked
// into (on a v2 host the container has one anyway).
func TestJoinEntersPid1sCgroups(t *testing.T) {
	for _, way := range joinWays {
		t.Run(way, func(t *testing.T) {
			joinWay(t, way)
			v2 := cgroupV2Mount()
			var own string
			if v2 != "" && !cgroupV2() && way != "direct" {
				own = filepath.Join(v2, cgroupPrefix+"test-"+strconv.Itoa(os.Getpid()))
				if err := os.Mkdir(own, 0o755); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { os.Remove(own) }) // after the container is gone
			}
			pid, _ := startJoinable(t, nil, "touch /ready; exec sleep 1000")
			if own != "" {
				if err := os.WriteFile(filepath.Join(own, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
					t.Fatal(err)
				}
			}
			r := join(t, pid, nil, "sh", "-c", "cat /proc/self/cgroup; echo; cat /proc/1/cgroup")
			self, pid1, _ := strings.Cut(r.stdout, "\n\n")
			if r.code != 0 || self+"\n" != pid1 || !strings.Contains(pid1, "0::") {
				t.Fatalf("code %d err %v; the command's cgroups:\n%s\npid 1's:\n%s", r.code, r.err, self, pid1)
			}
			if own != "" && strings.Contains(pid1, "0::/\n") {
				t.Fatalf("pid 1 is at the root of its v2 cgroup namespace, not in %s:\n%s", own, pid1)
			}
		})
	}
}

// TestJoinReadsOnlyARegularUserDatabase: the container's /etc/passwd and
// /etc/group are read by strata on its own thread (a direct join), outside
// the container's memory limit, or by the init. A link to /dev/urandom
// once made the join read forever, keeping every line (each matches user
// 0), and a FIFO held its open. Every way in, the join now fails at once
// with docker's 125 and says why.
func TestJoinReadsOnlyARegularUserDatabase(t *testing.T) {
	for _, tc := range []struct{ name, script, want string }{
		{"passwd-urandom", "rm /etc/passwd && ln -s /dev/urandom /etc/passwd", "/etc/passwd is a character device, not a regular file"},
		{"group-fifo", "rm /etc/group && mkfifo /etc/group", "/etc/group is a FIFO, not a regular file"},
	} {
		for _, way := range joinWays {
			t.Run(tc.name+"/"+way, func(t *testing.T) {
				joinWay(t, way)
				pid, _ := startJoinable(t, nil, tc.script+" && touch /ready; exec sleep 1000")
				r := resultWithin(t, "the join", func() result {
					var stderr bytes.Buffer
					code, err := Join(context.Background(), pid, Spec{Args: []string{"true"}, Stderr: &stderr})
					if err == nil {
						err = errors.New(stderr.String())
					}
					return result{code: code, err: err}
				})
				if r.code != CodeRuntime || r.err == nil || !strings.Contains(r.err.Error(), tc.want) {
					t.Fatalf("code %d err %v; want %d and %q", r.code, r.err, CodeRuntime, tc.want)
				}
			})
		}
	}
}

// TestJoinForwardsSignals: a signal strata receives while it waits for a
// joined command goes to the command, which may handle it, and its exit
// code comes back; every way in.
func TestJoinForwardsSignals(t *testing.T) {
	for _, way := range joinWays {
		t.Run(way, func(t *testing.T) {
			joinWay(t, way)
			pid, root := startJoinable(t, nil, "touch /ready; exec sleep 1000")
			defer onceExists(filepath.Join(root, "joined"), func() { syscall.Kill(os.Getpid(), syscall.SIGTERM) })()
			var out bytes.Buffer
			r := resultWithin(t, "the join", func() result {
				code, err := Join(context.Background(), pid, Spec{Args: []string{"sh", "-c",
					"trap 'echo got TERM; exit 7' TERM; touch /joined; while :; do sleep 0.1; done"}, Stdout: &out})
				return result{code: code, err: err}
			})
			if r.code != 7 || r.err != nil || out.String() != "got TERM\n" {
				t.Fatalf("code %d err %v stdout %q; want 7 and the trap's line", r.code, r.err, out.String())
			}
		})
	}
}

// TestJoinCancelKillsTheCommand: when Join's context ends, the joined
// command is gone, every way in (through nsenter Join kills it before
// nsenter, whose death would also end it through its parent-death signal).
func TestJoinCancelKillsTheCommand(t *testing.T) {
	for _, way := range joinWays {
		t.Run(way, func(t *testing.T) {
			joinWay(t, way)
			pid, root := startJoinable(t, nil, "touch /ready; exec sleep 1000")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			defer onceExists(filepath.Join(root, "joined"), cancel)()
			resultWithin(t, "the join", func() result {
				code, err := Join(ctx, pid, Spec{Args: []string{"sh", "-c", "touch /joined; exec sleep 1001"}})
				return result{code: code, err: err}
			})
			// The deadline only guards against a hang (TCG is slow).
			deadline := time.Now().Add(30 * time.Second)
			for len(processesIn(t, pid, "sleep\x001001\x00")) > 0 {
				if time.Now().After(deadline) {
					t.Fatal("the joined command still runs 30 s after Join returned")
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}

// onceExists calls f once path exists, polling until the function it
// returns is called.
func onceExists(path string, f func()) (stop func()) {
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(10 * time.Millisecond):
			}
			if _, err := os.Stat(path); err == nil {
				f()
				return
			}
		}
	}()
	return func() { close(done) }
}

// TestJoinKilledBySignal: a joined command that a signal ends gives
// 128+N, as docker exec and strata exec's help say; every way in
// (through nsenter, nsenter ends itself with the command's signal).
func TestJoinKilledBySignal(t *testing.T) {
	for _, way := range joinWays {
		t.Run(way, func(t *testing.T) {
			joinWay(t, way)
			pid, _ := startJoinable(t, nil, "touch /ready; exec sleep 1000")
			for sig, want := range map[string]int{"TERM": 143, "USR1": 138, "KILL": 137} {
				r := resultWithin(t, "the join", func() result {
					code, err := Join(context.Background(), pid, Spec{Args: []string{"sh", "-c", "kill -" + sig + " $$"}})
					return result{code: code, err: err}
				})
				if r.code != want || r.err != nil {
					t.Errorf("killed by SIG%s: code %d err %v, want %d", sig, r.code, r.err, want)
				}
			}
		})
	}
}

// TestJoinTellsStarted: Started gets the command's host pid (nsenter's,
// on that way) while the command still runs (exec -d returns then), on
// every way in, and a command that cannot start is not reported
// started, on nsenter's way too (the joined init's own status pipe).
func TestJoinTellsStarted(t *testing.T) {
	for _, way := range joinWays {
		t.Run(way, func(t *testing.T) {
			joinWay(t, way)
			pid, root := startJoinable(t, nil, "touch /ready; exec sleep 1000")
			gate := filepath.Join(root, "gate")
			started := make(chan int, 1)
			done := make(chan result, 1)
			go func() {
				code, err := Join(context.Background(), pid, Spec{Args: []string{"sh", "-c", "while [ ! -e /gate ]; do sleep 0.05; done"},
					Started: func(p int) { started <- p }})
				done <- result{code: code, err: err}
			}()
			select {
			case p := <-started:
				b, err := os.ReadFile("/proc/" + strconv.Itoa(p) + "/cmdline")
				switch {
				case way == "nsenter":
					// The joining process, between its execs (nsenter, then
					// the init): only that it lives.
					if err != nil {
						t.Errorf("Started(%d): %v", p, err)
					}
				case err != nil || !strings.HasPrefix(string(b), "sh\x00-c\x00while"):
					t.Errorf("Started(%d): that process runs %q (%v)", p, b, err)
				}
			case r := <-done:
				t.Fatalf("the command ended (code %d, err %v) without Started", r.code, r.err)
			case <-time.After(time.Minute): // a guard against a hang, not a timing check
				os.WriteFile(gate, nil, 0o644)
				<-done
				t.Fatal("Started was not called while the command ran")
			}
			if err := os.WriteFile(gate, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if r := <-done; r.code != 0 || r.err != nil {
				t.Fatalf("code %d err %v", r.code, r.err)
			}
			called := false
			code, _ := Join(context.Background(), pid, Spec{Args: []string{"/nosuch"}, Started: func(int) { called = true }})
			if code != CodeNotFound || called {
				t.Fatalf("a command not found: code %d, Started called %v", code, called)
			}
		})
	}
}

// TestJoinTargetLeavesOutCgroupsStrataIsIn: a v1 cgroup the container
// inherited from strata (a controller strata made none in) is not
// written to by a direct join: its thread is there already, and the
// write would cost an attach for nothing.
func TestJoinTargetLeavesOutCgroupsStrataIsIn(t *testing.T) {
	if cgroupV2() {
		t.Skip("a v2 host has no v1 hierarchy")
	}
	ours, err := readProcCgroups("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	var controller string
	for _, c := range ours {
		if c.path == "/" && (c.controllers == "cpu" || c.controllers == "cpu,cpuacct" || c.controllers == "blkio") {
			controller = strings.Split(c.controllers, ",")[0]
			break
		}
	}
	if controller == "" {
		t.Fatalf("no cpu or blkio hierarchy at its root in %+v", ours)
	}
	hierarchy := filepath.Join(cgroupRoot, controller)
	dir := filepath.Join(hierarchy, cgroupPrefix+"test-"+strconv.Itoa(os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	self := []byte(strconv.Itoa(os.Getpid()))
	t.Cleanup(func() { // after the container is gone (cleanups run last first)
		if err := os.WriteFile(filepath.Join(hierarchy, "cgroup.procs"), self, 0); err != nil {
			t.Error(err)
			return // still in it: removeCgroupDirs would kill this test
		}
		if err := removeCgroupDirs([]string{dir}, 5*time.Second); err != nil {
			t.Error(err)
		}
	})
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), self, 0); err != nil {
		t.Fatal(err)
	}
	pid, _ := startJoinable(t, nil, "touch /ready; exec sleep 1000")
	theirs, err := readProcCgroups("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	inherited := false
	for _, c := range theirs {
		inherited = inherited || (strings.Split(c.controllers, ",")[0] == controller && c.path != "/")
	}
	if !inherited {
		t.Fatalf("the container did not inherit the %s cgroup: %+v", controller, theirs)
	}
	target, ok, err := joinTargetOf(pid, false)
	if err != nil || !ok {
		t.Fatalf("join target: %v, %v", ok, err)
	}
	defer unix.Close(target.pidfd)
	for _, tasks := range target.tasks {
		if strings.HasPrefix(tasks, dir+"/") {
			t.Fatalf("a direct join writes %s, a cgroup strata is in: %v", tasks, target.tasks)
		}
	}
}

// TestJoinCountsInTheInitsPidsLimit: a joined command goes where the
// tiny init's main thread is, which on v2 is the child of the cgroup that
// holds pids.max (initPids): it counts against PidsLimit, as docker
// exec's does.
func TestJoinCountsInTheInitsPidsLimit(t *testing.T) {
	for _, way := range joinWays {
		t.Run(way, func(t *testing.T) {
			joinWay(t, way)
			pid, _ := startJoinable(t, func(s *Spec) { s.Init = true; s.Resources.PidsLimit = 16 }, "touch /ready; exec sleep 1000")
			r := join(t, pid, nil, "sh", "-c", "cat /proc/self/cgroup; echo; cat /proc/1/cgroup")
			self, pid1, _ := strings.Cut(r.stdout, "\n\n")
			if r.code != 0 || self+"\n" != pid1 || cgroupV2() && !strings.Contains(pid1, "0::/"+pidsChildName+"\n") {
				t.Fatalf("code %d err %v stderr %q; the command's cgroups:\n%s\npid 1's:\n%s", r.code, r.err, r.stderr, self, pid1)
			}
		})
	}
}
