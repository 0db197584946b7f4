package exec

import (
	"context"
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/strata-sh/strata/internal/testrootfs"
	"golang.org/x/sys/unix"
)

// TestDirectStartAvailability: Run starts plain containers directly
// exactly where it can (root, cgroup v1, Linux 6.15 or later), so the fast
// path does not silently give way to the init on a machine that has it.
func TestDirectStartAvailability(t *testing.T) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Fatal(err)
	}
	release := unix.ByteSliceToString(u.Release[:])
	var major, minor int
	if f := strings.FieldsFunc(release, func(r rune) bool { return r < '0' || r > '9' }); len(f) >= 2 {
		major, _ = strconv.Atoi(f[0])
		minor, _ = strconv.Atoi(f[1])
	}
	want := !cgroupV2() && (major > 6 || major == 6 && minor >= 15)
	if got := directUsable(&Spec{}); got != want {
		t.Fatalf("direct start usable: %v on Linux %s (cgroup v2: %v), want %v", got, release, cgroupV2(), want)
	}
	if directUsable(&Spec{Init: true}) {
		t.Error("direct start chosen with Init: the tiny pid 1 is the init")
	}
}

// TestDirectStartLeavesTheCgroup: the thread that builds a container joins
// its cgroups (for the cgroup namespace) and must leave them before the
// command runs: a thread of strata counted in the container's pids limit,
// charged to its memory or frozen with it would be a bug.
func TestDirectStartLeavesTheCgroup(t *testing.T) {
	requireDirect(t)
	// The command waits on stdin until the cgroups have been read.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	var tasks []string
	spec := func(s *Spec) {
		s.Stdin = r
		s.Resources = Resources{PidsLimit: 8, MemoryBytes: 64 << 20}
		s.Started = func(pid int) {
			defer w.Close()
			for _, d := range ourCgroups(os.Getpid()) {
				b, err := os.ReadFile(filepath.Join(d, "tasks"))
				if err != nil {
					t.Error(err)
				}
				for _, tid := range strings.Fields(string(b)) {
					tasks = append(tasks, filepath.Base(d)+":"+tid)
					if _, err := os.Stat("/proc/self/task/" + tid); err == nil {
						t.Errorf("thread %s of strata is in the container's cgroup %s", tid, d)
					}
				}
			}
		}
	}
	out := mustSh(t, busybox(t), spec, "read x; echo $$")
	if out != "1\n" || len(tasks) == 0 {
		t.Fatalf("output %q, tasks %v", out, tasks)
	}
}

// TestDirectStartProc: the command's /proc is its own PID namespace's,
// masked, and mounted before the command's first instruction: the very
// first thing it does, reading its own status, works.
func TestDirectStartProc(t *testing.T) {
	requireDirect(t)
	root := probeRoot(t)
	r := run(t, root, func(s *Spec) { s.Env = []string{helperEnv + "=status"} }, "/bin/probe")
	if r.code != 0 || !strings.Contains(r.stdout, "NSpid:\t1\n") {
		t.Fatalf("code %d err %v stdout %q stderr %q, want the probe's own status as pid 1", r.code, r.err, r.stdout, r.stderr)
	}
	out := mustSh(t, root, nil, "echo /proc/[0-9]*; head -c 1 /proc/timer_list | wc -c")
	if out != "/proc/1\n0\n" {
		t.Fatalf("got %q: want only pid 1 in /proc, and /proc/timer_list masked", out)
	}
}

// TestDirectStartFailureLeavesNothing: a command that cannot start fails
// with its code, and no process, cgroup or thread of the attempt remains.
func TestDirectStartFailureLeavesNothing(t *testing.T) {
	requireDirect(t)
	for _, c := range []struct {
		args []string
		mod  func(*Spec)
		code int
	}{
		{[]string{"/nonexistent"}, nil, CodeNotFound},
		{[]string{"/etc/passwd"}, nil, CodeNotExecutable},
		{[]string{"true"}, func(s *Spec) { s.User = "nobody-here" }, CodeRuntime},
		{[]string{"true"}, func(s *Spec) { s.Cwd = "/etc/passwd/x" }, CodeRuntime},
	} {
		r := run(t, busybox(t), c.mod, c.args...)
		if r.code != c.code || r.err == nil {
			t.Errorf("%v: code %d err %v, want %d", c.args, r.code, r.err, c.code)
		} else if msg := r.err.Error(); strings.Count(msg, "start container") > 1 || strings.Contains(msg, "\n") {
			t.Errorf("%v: error %q: one line, one 'start container'", c.args, msg)
		}
	}
	if d := ourCgroups(os.Getpid()); len(d) != 0 {
		t.Errorf("cgroups left: %v", d)
	}
	// The threads that took the containers' namespaces end; give the
	// runtime a moment to reap them. Counting threads could not tell: an
	// idle runtime thread (the runtime keeps those it made under load)
	// is no leak, one left in a container's namespaces is.
	deadline := time.Now().Add(5 * time.Second)
	for len(threadsInOtherNamespaces(t)) > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if left := threadsInOtherNamespaces(t); len(left) > 0 {
		t.Errorf("after four failed starts, threads still in other namespaces: %v", left)
	}
}

// threadsInOtherNamespaces lists this process's threads that are not in
// its mount, UTS, IPC or network namespace ("TID ns").
func threadsInOtherNamespaces(t *testing.T) []string {
	t.Helper()
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, ns := range []string{"mnt", "uts", "ipc", "net"} {
		own, err := os.Readlink("/proc/self/ns/" + ns)
		if err != nil {
			t.Fatal(err)
		}
		for _, task := range tasks {
			if got, err := os.Readlink("/proc/self/task/" + task.Name() + "/ns/" + ns); err == nil && got != own {
				left = append(left, task.Name()+" "+ns)
			}
		}
	}
	return left
}

// TestThroughInit runs the confinement tests again with containers started
// from the init, the path Run takes where direct starts are not available
// (and for Init, rootless and joined processes), so that both stay tested
// on a machine that has direct starts.
func TestThroughInit(t *testing.T) {
	requireDirect(t) // else every other test runs through the init already
	throughInit(t)
	for name, test := range map[string]func(*testing.T){
		"Echo": TestEcho, "ExitCodes": TestExitCodes, "EscapeSyscalls": TestEscapeSyscalls,
		"EscapeShell": TestEscapeShell, "ConfinementStatus": TestConfinementStatus,
		"CapAddDropPrivileged": TestCapAddDropPrivileged, "NoFdLeak": TestNoFdLeak,
		"User": TestUser, "EnvAndCwd": TestEnvAndCwd, "BindMounts": TestBindMounts,
		"ReadOnlyRoot": TestReadOnlyRoot, "PIDNamespace": TestPIDNamespace,
		"NetworkNone": TestNetworkNone, "DevAndProc": TestDevAndProc,
		"Terminal": TestTerminal, "PidsLimit": TestPidsLimit,
		"CgroupVisibleInside": TestCgroupVisibleInside, "DeviceNodeOpenRefused": TestDeviceNodeOpenRefused,
		"SignalsForwarded": TestSignalsForwarded, "NetworkPrivateIsolation": TestNetworkPrivateIsolation,
	} {
		t.Run(name, test)
	}
}

const mainThreadEnv = "STRATA_EXEC_TEST_MAIN_THREAD"

// The main goroutine runs on the main thread while init runs, and after
// it only if locked there: mainThreadMain needs it there when it starts
// (unlocked, it moved to another thread once in a loaded VM).
func init() {
	if os.Getenv(mainThreadEnv) != "" {
		runtime.LockOSThread()
	}
}

// mainThreadMain, in a process started by TestGoLockedNotOnMainThread,
// calls goLocked from the main goroutine on the main thread, then blocks:
// the scheduler hands the main thread the new goroutine first. It prints
// "ok" when f ran on another thread.
func mainThreadMain() {
	if os.Getenv(mainThreadEnv) == "" {
		return
	}
	if unix.Gettid() != unix.Getpid() {
		fmt.Println("not started on the main thread")
		os.Exit(1)
	}
	runtime.UnlockOSThread() // init's: the main thread is free to take f
	bad := 0
	for range 20 {
		tid := make(chan int)
		goLocked(func() { tid <- unix.Gettid() })
		if <-tid == unix.Getpid() {
			bad++
		}
	}
	if bad > 0 {
		fmt.Printf("f ran on the main thread %d times in 20\n", bad)
		os.Exit(1)
	}
	fmt.Println("ok")
	os.Exit(0)
}

// TestGoLockedNotOnMainThread: the threads a direct start changes for good
// are never the main thread, whose namespaces and root /proc/<pid> shows
// as the whole process's (a service's supervisor was seen with the
// container's mount table as its own).
func TestGoLockedNotOnMainThread(t *testing.T) {
	if out, err := runSelf(t, mainThreadEnv+"=1"); err != nil || out != "ok\n" {
		t.Fatalf("%v: %s", err, out)
	}
}

const noTraceEnv = "STRATA_EXEC_TEST_NO_TRACE"

// noTraceMain, in a process started by TestDirectStartTraceRefused, refuses
// ptrace(PTRACE_TRACEME) to every thread of its own with a seccomp filter
// (as a security module or Yama's ptrace_scope 3 may) and runs a container.
func noTraceMain() {
	root := os.Getenv(noTraceEnv)
	if root == "" {
		return
	}
	const (
		ldW   = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeq   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		ret   = unix.BPF_RET | unix.BPF_K
		allow = unix.SECCOMP_RET_ALLOW
		eperm = unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
	)
	prog := []unix.SockFilter{
		{Code: ldW, K: 0}, // seccomp_data.nr
		{Code: jeq, K: unix.SYS_PTRACE, Jt: 0, Jf: 3},     // not ptrace: allow
		{Code: ldW, K: 16},                                // args[0], low half
		{Code: jeq, K: unix.PTRACE_TRACEME, Jt: 0, Jf: 1}, // not TRACEME: allow
		{Code: ret, K: eperm},
		{Code: ret, K: allow},
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	if _, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&fprog))); e != 0 {
		fmt.Println("seccomp:", e)
		os.Exit(1)
	}
	printRun(root, "echo $$")
}

// TestDirectStartTraceRefused: where the command cannot be forked traced,
// the container starts from the init instead of failing.
func TestDirectStartTraceRefused(t *testing.T) {
	requireDirect(t)
	if out, err := runSelf(t, noTraceEnv+"="+busybox(t)); err != nil || out != "0 <nil> 1\n" {
		t.Fatalf("%v: %q, want the container run (code 0, pid 1)", err, out)
	}
}

const chrootEnv = "STRATA_EXEC_TEST_CHROOT_RUN"

// chrootMain, in a process that TestDirectStartFromAChroot started under a
// chroot, runs a container and prints what it sees in /proc.
func chrootMain() {
	root := os.Getenv(chrootEnv)
	if root == "" {
		return
	}
	printRun(root, "echo /proc/[0-9]*; head -c 1 /proc/timer_list | wc -c")
}

// printRun, in a process a test started as a runner, runs script in a
// container on root, prints "CODE ERR OUTPUT" for the test and exits.
func printRun(root, script string) {
	var out strings.Builder
	code, err := Run(context.Background(), Spec{Root: root, Args: []string{"sh", "-c", script}, Stdout: &out})
	fmt.Printf("%d %v %s", code, err, out.String())
	os.Exit(0)
}

// TestDirectStartFromAChroot: strata whose own root is not its mount
// namespace's (a chroot into a bind of /) still mounts the container's
// /proc, and masks it, in the container's root, not under the
// namespace's.
func TestDirectStartFromAChroot(t *testing.T) {
	requireDirect(t)
	// A private mount namespace: the bind goes with the process.
	script := `mount --rbind / "$1" && mount --make-rslave "$1" && exec chroot "$1" "$2"`
	out, err := runSelf(t, chrootEnv+"="+busybox(t), "unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", t.TempDir())
	if err != nil || out != "0 <nil> /proc/1\n0\n" {
		t.Fatalf("%v: %q, want the container's /proc with its pid 1, masked", err, out)
	}
}

// runSelf runs this test binary, as the last argument of wrap's command
// when wrap is given, with env added to its environment, and returns what
// it printed.
func runSelf(t *testing.T, env string, wrap ...string) (string, error) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	args := append(wrap[:len(wrap):len(wrap)], self)
	cmd := osexec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), env)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestDirectStartFailureClosesThePty: a start with a terminal that fails
// after the pty was opened (here the command's execve: not an executable
// format) closes the pty, as every other start failure closes what it
// opened.
func TestDirectStartFailureClosesThePty(t *testing.T) {
	requireDirect(t)
	root := testrootfs.Busybox(t)
	if err := os.WriteFile(filepath.Join(root, "garbage"), []byte("\x00\x01 not a program\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	fds := func() int {
		d, _ := os.ReadDir("/proc/self/fd")
		return len(d)
	}
	before := fds()
	for range 3 {
		r := run(t, root, func(s *Spec) { s.Terminal = true }, "/garbage")
		if r.code != CodeNotExecutable {
			t.Fatalf("code %d err %v, want %d", r.code, r.err, CodeNotExecutable)
		}
	}
	if after := fds(); after > before {
		t.Fatalf("%d open fds before three failed starts with a terminal, %d after", before, after)
	}
}
