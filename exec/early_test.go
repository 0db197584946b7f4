package exec

import (
	"context"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// earlyRun starts an init early for want, then runs script with got's
// fields over it (Root and Args set here), the output going to a file
// (StartEarly takes files only). It returns the output, the pid the
// container ran as, and the pid of the init started early (0 if none).
func earlyRun(t *testing.T, want, got Spec, script string) (out string, ranAs, earlyPid int, code int, err error) {
	t.Helper()
	f, ferr := os.CreateTemp(t.TempDir(), "out")
	if ferr != nil {
		t.Fatal(ferr)
	}
	defer f.Close()
	want.Stdout, want.Stderr = f, f
	e := StartEarly(want)
	defer e.Close()
	if e != nil && e.l != nil {
		earlyPid = e.l.c.cmd.Process.Pid
	}
	got.Root, got.Args = busybox(t), []string{"/bin/sh", "-c", script}
	got.Stdout, got.Stderr = f, f
	got.Started = func(pid int) { ranAs = pid }
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code, err = e.Run(ctx, got)
	b, _ := os.ReadFile(f.Name())
	return string(b), ranAs, earlyPid, code, err
}

// gone reports whether pid is no process of ours any more (the init was
// killed and reaped).
func gone(pid int) bool {
	return syscall.Kill(pid, 0) == syscall.ESRCH
}

func TestEarlyInitRunsTheContainer(t *testing.T) {
	throughInit(t) // only an init starts early
	spec := Spec{Network: NetworkNone, ID: "early-" + randomHex(4)}
	out, ranAs, early, code, err := earlyRun(t, spec, Spec{Network: NetworkNone}, "echo $$; ls /sys/class/net; hostname")
	if err != nil || code != 0 {
		t.Fatalf("code %d, err %v, output %q", code, err, out)
	}
	if early == 0 || ranAs != early {
		t.Fatalf("the container ran as pid %d, the early init was %d", ranAs, early)
	}
	if out != "1\nlo\nstrata\n" {
		t.Fatalf("output %q, want pid 1, only lo, the default hostname", out)
	}
}

func TestEarlyInitNotForThisSpecIsReplaced(t *testing.T) {
	throughInit(t) // only an init starts early
	for name, got := range map[string]Spec{
		"network":    {Network: NetworkHost},
		"privileges": {Network: NetworkNone, CapAdd: []string{"SYS_ADMIN"}},
		"id":         {Network: NetworkNone, ID: "other-" + randomHex(4)},
	} {
		t.Run(name, func(t *testing.T) {
			want := Spec{Network: NetworkNone, ID: "early-" + randomHex(4)}
			out, ranAs, early, code, err := earlyRun(t, want, got, "ls /sys/class/net | wc -l")
			if err != nil || code != 0 {
				t.Fatalf("code %d, err %v, output %q", code, err, out)
			}
			if early == 0 || ranAs == early {
				t.Fatalf("ran as %d, early init %d: the early init was used for another spec", ranAs, early)
			}
			if !gone(early) {
				t.Fatalf("the unused early init %d is still there", early)
			}
			links, _ := strconv.Atoi(strings.TrimSpace(out))
			if host := got.Network == NetworkHost; host != (links > 1) {
				t.Fatalf("%d network links for network %q", links, got.Network)
			}
		})
	}
}

func TestEarlyInitKilledWhenRunFails(t *testing.T) {
	throughInit(t) // only an init starts early
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e := StartEarly(Spec{Stdout: f})
	if e == nil || e.l == nil {
		t.Fatal("no early init")
	}
	early := e.l.c.cmd.Process.Pid
	code, err := e.Run(context.Background(), Spec{Root: "/nonexistent-root", Args: []string{"true"}, Stdout: f})
	if code != CodeRuntime || err == nil || !strings.Contains(err.Error(), "/nonexistent-root") {
		t.Fatalf("code %d, err %v; want %d and the root named", code, err, CodeRuntime)
	}
	if !gone(early) {
		t.Fatalf("the early init %d outlived the failed run", early)
	}
	e.Close() // a no-op now
}

func TestEarlyInitClosedUnused(t *testing.T) {
	throughInit(t) // only an init starts early
	e := StartEarly(Spec{ID: "early-" + randomHex(4)})
	if e == nil || e.l == nil {
		t.Fatal("no early init")
	}
	early := e.l.c.cmd.Process.Pid
	e.Close()
	if !gone(early) {
		t.Fatalf("the early init %d outlived Close", early)
	}
	if dir, _ := freezerDir(e.id); dir != "" {
		t.Fatalf("cgroup %s left behind", dir)
	}
	e.Close()
}

// TestNoEarlyInitForDirectStart: a container that starts directly has no
// init to start early; StartEarly starts nothing, and Run still runs it.
func TestNoEarlyInitForDirectStart(t *testing.T) {
	requireDirect(t)
	want := Spec{Network: NetworkNone, ID: "early-" + randomHex(4)}
	if e := StartEarly(want); e != nil {
		e.Close()
		t.Fatal("StartEarly started an init for a container that starts directly")
	}
	out, _, _, code, err := earlyRun(t, want, Spec{Network: NetworkNone}, "echo $$")
	if err != nil || code != 0 || out != "1\n" {
		t.Fatalf("code %d, err %v, output %q", code, err, out)
	}
}

func TestStartEarlyRefusesStreamsThatAreNotFiles(t *testing.T) {
	throughInit(t) // only an init starts early
	var b strings.Builder
	if e := StartEarly(Spec{Stdout: &b}); e != nil {
		e.Close()
		t.Fatal("StartEarly started an init whose stdout is not a file")
	}
	// Run on a nil Early is Run.
	var e *Early
	code, err := e.Run(context.Background(), Spec{Root: busybox(t), Args: []string{"echo", "ok"}, Stdout: &b})
	if code != 0 || err != nil || b.String() != "ok\n" {
		t.Fatalf("code %d, err %v, output %q", code, err, b.String())
	}
}

// TestEarlyInitDoesNotMissALaterMount: the root is mounted after the
// early launch, on a private mount the init's copy of the mount table
// does not get it from; the container must still run on it.
func TestEarlyInitDoesNotMissALaterMount(t *testing.T) {
	throughInit(t) // only an init starts early
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	if err := unix.Mount("", dir, "", unix.MS_PRIVATE, ""); err != nil {
		t.Fatal(err)
	}
	root := dir + "/root"
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(dir + "/out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e := StartEarly(Spec{Stdout: f, Stderr: f})
	defer e.Close()
	if e == nil || e.l == nil {
		t.Fatal("no early init")
	}
	early := e.l.c.cmd.Process.Pid
	if err := unix.Mount(busybox(t), root, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(root, unix.MNT_DETACH) })
	code, err := e.Run(context.Background(), Spec{Root: root, Args: []string{"echo", "ok"}, Stdout: f, Stderr: f})
	out, _ := os.ReadFile(f.Name())
	if code != 0 || err != nil || string(out) != "ok\n" {
		t.Fatalf("code %d, err %v, output %q", code, err, out)
	}
	if !gone(early) {
		t.Fatalf("the early init %d, which cannot see the root, is still there", early)
	}
}

// TestEarlyInitNotAChildOfTheCallersThread: an init's parent-death
// signal follows the thread that forked it, and Go ends a thread whose
// goroutine exits locked to it (as a join's does). An init forked from
// whichever thread ran the start died when that thread was later taken
// and ended, and its container with it (a joined cgroup v2 container died
// so in the VM). The init is forked from a thread of its own, held until
// the init is reaped: never the caller's.
func TestEarlyInitNotAChildOfTheCallersThread(t *testing.T) {
	throughInit(t) // only an init starts early
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := Spec{Network: NetworkNone, ID: "early-" + randomHex(4), Stdout: f, Stderr: f}
	type started struct {
		e        *Early
		children string
	}
	ch := make(chan started)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		e := StartEarly(want)
		b, _ := os.ReadFile("/proc/self/task/" + strconv.Itoa(unix.Gettid()) + "/children")
		ch <- started{e, string(b)}
	}()
	s := <-ch
	defer s.e.Close()
	if s.e == nil || s.e.l == nil {
		t.Fatal("no init started early")
	}
	early := s.e.l.c.cmd.Process.Pid
	if slices.Contains(strings.Fields(s.children), strconv.Itoa(early)) {
		t.Fatalf("the init %d is a child of the thread that called StartEarly (%q)", early, s.children)
	}
	var ranAs int
	got := Spec{Network: NetworkNone, ID: want.ID, Root: busybox(t), Args: []string{"/bin/sh", "-c", "echo alive"},
		Stdout: f, Stderr: f, Started: func(pid int) { ranAs = pid }}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code, err := s.e.Run(ctx, got)
	out, _ := os.ReadFile(f.Name())
	if code != 0 || err != nil || ranAs != early || string(out) != "alive\n" {
		t.Fatalf("code %d err %v output %q; ran as %d, the early init was %d", code, err, out, ranAs, early)
	}
}
