package exec

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	osexec "os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/strata-sh/strata/internal/testmountns"
	"github.com/strata-sh/strata/internal/testrootfs"
)

func TestFreeze(t *testing.T) { testFreeze(t) }

// counter is a container counting in a loop into /tmp/count.
type counter struct {
	id, root string
	t        *testing.T
	exited   chan struct{} // closed once Run has returned
}

func startCounter(t *testing.T) *counter {
	root := testrootfs.Busybox(t)
	id := "freeze-test-" + randomHex(4)
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan result, 1)
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		code, err := Run(ctx, Spec{ID: id, Root: root, Stdout: pw, Args: []string{"sh", "-c",
			"i=0; echo up; while :; do i=$((i+1)); echo $i > /tmp/count; done"}})
		pw.Close()
		done <- result{code: code, err: err}
	}()
	t.Cleanup(func() {
		if dir, v2 := freezerDir(id); dir != "" {
			writeFreezer(dir, v2, false) // a failed test may leave it frozen
		}
		cancel()
		go io.Copy(io.Discard, pr)
		<-done
	})
	if l, _ := bufio.NewReader(pr).ReadString('\n'); l != "up\n" {
		t.Fatalf("container said %q", l)
	}
	c := &counter{id: id, root: root, t: t, exited: exited}
	c.waitChange("")
	return c
}

func (c *counter) count() string {
	b, _ := os.ReadFile(filepath.Join(c.root, "tmp/count"))
	return strings.TrimSpace(string(b))
}

// waitChange waits for the count to move from from.
func (c *counter) waitChange(from string) {
	c.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if n := c.count(); n != "" && n != from {
			return
		}
	}
	c.t.Fatalf("counter stuck at %q", from)
}

// aPid is one of the container's processes, as its cgroup lists them.
func (c *counter) aPid() int {
	c.t.Helper()
	dir, _ := freezerDir(c.id)
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	first, _, _ := strings.Cut(string(b), "\n")
	pid, perr := strconv.Atoi(first)
	if err != nil || perr != nil {
		c.t.Fatalf("the container's processes: %q, %v", b, err)
	}
	return pid
}

// frozen reports whether the kernel says the container is frozen.
func (c *counter) frozen() bool {
	dir, v2 := freezerDir(c.id)
	ok, err := isFrozen(dir, v2)
	if err != nil {
		c.t.Fatal(err)
	}
	return ok
}

// testFreeze: a container counting in a loop stops counting while frozen
// (and the kernel says FROZEN), and counts again after thaw.
func testFreeze(t *testing.T) {
	c := startCounter(t)
	// A second container may not take the id while this one runs.
	if r := run(t, c.root, func(s *Spec) { s.ID = c.id }, "true"); r.code != CodeRuntime || r.err == nil || !strings.Contains(r.err.Error(), "in use") {
		t.Errorf("second run with id %s: code %d err %v", c.id, r.code, r.err)
	}

	thaw, err := Freeze(c.id)
	if err != nil {
		t.Fatal(err)
	}
	if !c.frozen() {
		t.Error("after Freeze the kernel does not say frozen")
	}
	frozenAt := c.count()
	time.Sleep(50 * time.Millisecond)
	if n := c.count(); n != frozenAt {
		t.Errorf("frozen container counted on: %s then %s", frozenAt, n)
	}
	if err := thaw(); err != nil {
		t.Fatal(err)
	}
	c.waitChange(frozenAt)
	if c.frozen() {
		t.Error("after thaw the kernel still says frozen")
	}
}

const freezerEnv = "STRATA_EXEC_TEST_FREEZER"

// freezerMain freezes a container and then waits to be killed, when this
// binary is started as the freezer of TestFreezeOrphanThawed.
func freezerMain() {
	id := os.Getenv(freezerEnv)
	if id == "" {
		return
	}
	thaw, err := Freeze(id)
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Println("frozen")
	// Until killed. Not select {}: with no other goroutine the runtime
	// takes that for a deadlock and exits, letting the lock go, and
	// TestFreezeOrphanThawed found the container orphaned (2 runs in
	// 40). The thaw stays reachable, so the lock's *os.File is never
	// closed by its finalizer either.
	for {
		time.Sleep(time.Hour)
		runtime.KeepAlive(thaw)
	}
}

// startFreezer starts this test binary as a process that freezes
// container id and holds it frozen, and returns once it has.
func startFreezer(t *testing.T, id string) *osexec.Cmd {
	t.Helper()
	cmd := osexec.Command("/proc/self/exe")
	cmd.Env = append(os.Environ(), freezerEnv+"="+id)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if l, _ := bufio.NewReader(out).ReadString('\n'); l != "frozen\n" {
		t.Fatalf("freezer said %q", l)
	}
	return cmd
}

// ownFreezeLocks runs the calling test again in a mount namespace of its
// own, with a freeze lock directory no other process sees, and reports
// whether this is that run. ThawOrphans reads the machine's: a test's
// ThawOrphans thawed another test process's orphan (or a strata ps did
// this test's) and counted what it had not made.
func ownFreezeLocks(t *testing.T) bool {
	t.Helper()
	if !testmountns.Inside(t) {
		return false
	}
	testmountns.Tmpfs(t, freezeLockDir)
	return true
}

// TestFreezeOrphanThawed: a process killed while it holds a container
// frozen (a commit killed mid-read) leaves it frozen; ThawOrphans thaws
// it, and leaves alone a container a live process holds frozen.
func TestFreezeOrphanThawed(t *testing.T) {
	if !ownFreezeLocks(t) {
		return
	}
	c := startCounter(t)
	cmd := startFreezer(t, c.id)
	if got := ThawOrphans(); len(got) != 0 || !c.frozen() {
		t.Fatalf("with its freezer alive: ThawOrphans thawed %v, frozen %v; want nothing thawed", got, c.frozen())
	}
	cmd.Process.Kill()
	cmd.Wait()
	if !c.frozen() {
		t.Fatal("the container thawed when its freezer was killed: nothing to test")
	}
	at := c.count()
	if got := ThawOrphans(); len(got) != 1 || got[0] != c.id {
		t.Fatalf("ThawOrphans thawed %v, want [%s]", got, c.id)
	}
	c.waitChange(at)
	if _, err := os.Stat(filepath.Join(freezeLockDir, c.id+".lock")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the lock file stays: %v", err)
	}
	if got := ThawOrphans(); len(got) != 0 {
		t.Errorf("a second ThawOrphans thawed %v", got)
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

// TestPause: a paused container stops counting and stays paused after
// this process lets go, a Freeze of it (commit) and ThawOrphans leave it
// paused, Unpause lets it count again; twice of either is an error.
func TestPause(t *testing.T) {
	if !ownFreezeLocks(t) {
		return
	}
	c := startCounter(t)
	if err := Pause(c.id); err != nil {
		t.Fatal(err)
	}
	if !c.frozen() || !Paused(c.aPid()) {
		t.Fatal("after Pause the container is not frozen")
	}
	if err := Pause(c.id); !errors.Is(err, ErrPaused) {
		t.Errorf("second Pause: %v, want ErrPaused", err)
	}
	at := c.count()
	thaw, err := Freeze(c.id)
	if err != nil {
		t.Fatal(err)
	}
	if err := thaw(); err != nil {
		t.Fatal(err)
	}
	if !c.frozen() {
		t.Error("the thaw of a Freeze unpaused it")
	}
	if got := ThawOrphans(); len(got) != 0 || !c.frozen() {
		t.Errorf("ThawOrphans thawed %v of a paused container", got)
	}
	time.Sleep(50 * time.Millisecond)
	if n := c.count(); n != at {
		t.Errorf("paused container counted on: %s then %s", at, n)
	}
	if err := Unpause(c.id); err != nil {
		t.Fatal(err)
	}
	c.waitChange(at)
	if c.frozen() || Paused(c.aPid()) {
		t.Error("after Unpause the container is still frozen")
	}
	if err := Unpause(c.id); !errors.Is(err, ErrNotPaused) {
		t.Errorf("second Unpause: %v, want ErrNotPaused", err)
	}
	for _, f := range []func(string) error{Pause, Unpause} {
		if err := f("no-such-container"); !errors.Is(err, ErrNotRunning) {
			t.Errorf("of a missing container: %v, want ErrNotRunning", err)
		}
		if err := f("../escape"); err == nil || errors.Is(err, ErrNotRunning) {
			t.Errorf("with a path as id: %v, want an id error", err)
		}
	}
}

// TestPausedFreezerKilled: a freezer killed while it holds a paused
// container frozen (a commit of a paused run) leaves it paused:
// ThawOrphans removes the lock file and thaws nothing.
func TestPausedFreezerKilled(t *testing.T) {
	if !ownFreezeLocks(t) {
		return
	}
	c := startCounter(t)
	if err := Pause(c.id); err != nil {
		t.Fatal(err)
	}
	cmd := startFreezer(t, c.id)
	cmd.Process.Kill()
	cmd.Wait()
	if got := ThawOrphans(); len(got) != 0 || !c.frozen() {
		t.Fatalf("ThawOrphans thawed %v, frozen %v; want it paused", got, c.frozen())
	}
	if _, err := os.Stat(filepath.Join(freezeLockDir, c.id+".lock")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the lock file stays: %v", err)
	}
}

// TestPausedKilled: what kills a container's cgroup (stop, the watchdog,
// the sweep) kills a paused one too: killCgroup thaws it.
func TestPausedKilled(t *testing.T) {
	c := startCounter(t)
	if err := Pause(c.id); err != nil {
		t.Fatal(err)
	}
	dir, _ := freezerDir(c.id)
	killCgroup(dir)
	select {
	case <-c.exited:
	case <-time.After(30 * time.Second):
		t.Fatal("a paused container survived killCgroup")
	}
}

// TestPids: the processes of a running container are those of its
// cgroup; none for a container that is not.
func TestPids(t *testing.T) {
	c := startCounter(t)
	pids, err := Pids(c.id)
	if err != nil || len(pids) == 0 {
		t.Fatalf("Pids: %v %v", pids, err)
	}
	for _, p := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", p))
		if err != nil || !strings.Contains(string(b), "-"+c.id+"\n") {
			t.Errorf("pid %d is not in the container's cgroup: %q %v", p, b, err)
		}
	}
	if _, err := Pids("no-such-container"); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Pids of a missing container: %v, want ErrNotRunning", err)
	}
	if _, err := Pids("../escape"); err == nil || errors.Is(err, ErrNotRunning) {
		t.Errorf("Pids with a path as id: %v, want an id error", err)
	}
}

// TestReadUsage: a busy container's CPU time grows, its memory and
// tasks count, its cgroup's memory limit is read where it has one, and
// the host's network counts nothing.
func TestReadUsage(t *testing.T) {
	c := startCounter(t)
	u, err := ReadUsage(c.id, os.Getpid(), false)
	if err != nil {
		t.Fatal(err)
	}
	if u.MemoryBytes == 0 || u.Pids == 0 || u.NetRx != 0 || u.NetTx != 0 || u.MemoryLimit != 0 {
		t.Errorf("usage %+v: want memory and tasks, no limit, no network", u)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		v, err := ReadUsage(c.id, 0, false)
		if err != nil {
			t.Fatal(err)
		}
		if v.CPUNanos > u.CPUNanos {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("CPU time stays %d", v.CPUNanos)
		}
	}
	if _, err := ReadUsage("no-such-container", 0, false); !errors.Is(err, ErrNotRunning) {
		t.Errorf("ReadUsage of a missing container: %v, want ErrNotRunning", err)
	}

	// With a memory limit: the cgroup's figures.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	id := "usage-test-" + randomHex(4)
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, Spec{ID: id, Root: c.root, Stdout: pw, Resources: Resources{MemoryBytes: 64 << 20},
			Args: []string{"sh", "-c", "echo up; exec sleep 1000"}})
		pw.Close()
	}()
	defer func() { cancel(); go io.Copy(io.Discard, pr); <-done }()
	if l, _ := bufio.NewReader(pr).ReadString('\n'); l != "up\n" {
		t.Fatalf("container said %q", l)
	}
	u, err = ReadUsage(id, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	if u.MemoryLimit != 64<<20 || u.MemoryBytes == 0 || u.MemoryBytes > 64<<20 {
		t.Errorf("limited usage %+v: want a limit of 64 MiB and memory below it", u)
	}
}

// TestProcCPU: a process's name may hold spaces and parentheses; its
// times are counted from the last ')'.
func TestProcCPU(t *testing.T) {
	f := filepath.Join(t.TempDir(), "stat")
	os.WriteFile(f, []byte("42 (a) 1 2 3 4 5 6 7 8 (x) S 1 42 42 0 -1 4194560 100 0 0 0 7 3 2 1 20 0 1 0\n"), 0o600)
	if got, want := procCPU(f), uint64(13*1e9/clockTicks); got != want {
		t.Errorf("procCPU = %d, want %d", got, want)
	}
}

// TestParseNetDev: lo and the title lines count nothing; a file cut
// short (its process gone) is no error.
func TestParseNetDev(t *testing.T) {
	dev := `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    1000      10    0    0    0     0          0         0     1000      10    0    0    0     0       0          0
  eth0:     300       3    0    0    0     0          0         0      516       6    0    0    0     0       0          0
  eth1:       2       1    0    0    0     0          0         0        4       1    0    0    0     0       0          0
`
	if rx, tx := parseNetDev([]byte(dev)); rx != 302 || tx != 520 {
		t.Errorf("parseNetDev = %d, %d; want 302, 520", rx, tx)
	}
	for _, cut := range []string{"", "Inter-|", dev[:200]} {
		if rx, tx := parseNetDev([]byte(cut)); rx != 0 || tx != 0 {
			t.Errorf("parseNetDev(%q) = %d, %d; want 0, 0", cut, rx, tx)
		}
	}
}
