package main

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestGCSparesLiveRun: gc --prune=now while "run --rev" runs in the
// foreground must leave the container's tree alone. It once removed
// .strata/tmp/run-* through the live overlay: the container's /bin
// vanished under it.
func TestGCSparesLiveRun(t *testing.T) {
	env := busyboxRepo(t)
	cmd := strataCmd(env, "run", "-i", "--rev", "main", "--", "/bin/sh", "-c", "echo ready; read x; ls /bin/busybox && echo alive")
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd, lines := startReadyCmd(t, cmd)
	// Old enough for any grace: the run's directory in .strata/tmp.
	runs, _ := filepath.Glob(filepath.Join(env, ".strata", "tmp", "run-*"))
	if len(runs) != 1 {
		t.Fatalf("run directories in .strata/tmp: %v, want one", runs)
	}
	old := time.Now().Add(-48 * time.Hour)
	os.Chtimes(runs[0], old, old)
	if out, err := strataCmd(env, "gc", "--prune=now").CombinedOutput(); err != nil {
		t.Fatalf("gc: %v\n%s", err, out)
	}
	io.WriteString(in, "go\n")
	in.Close()
	var rest []string
	for lines.Scan() {
		rest = append(rest, lines.Text())
	}
	if code := exitStatus(t, cmd); code != 0 || strings.Join(rest, "\n") != "/bin/busybox\nalive" {
		t.Fatalf("the run after gc: exit %d, output %q; want its tree intact", code, rest)
	}
}

// TestGCRefusesWhileWriting: a command that writes holds the writers lock
// (shared) while it runs. gc --prune=now then refuses, as it would remove
// what that command has staged; a gc with a grace runs but leaves
// .strata/tmp alone. And a writer waits for a pruning gc to end.
func TestGCRefusesWhileWriting(t *testing.T) {
	env := busyboxRepo(t)
	staged := filepath.Join(env, ".strata", "tmp", "import-staged")
	if err := os.WriteFile(staged, []byte("a writer's"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-48 * time.Hour)
	os.Chtimes(staged, old, old)

	lock := flockWriters(t, env, syscall.LOCK_SH)
	out, err := strataCmd(env, "gc", "--prune=now").CombinedOutput()
	if err == nil || string(out) != "strata: gc: another strata command is writing to the repository: --prune=now would remove what it has staged; run gc once it ends\n" {
		t.Fatalf("gc --prune=now beside a writer: %v\n%s", err, out)
	}
	if out, err := strataCmd(env, "gc").CombinedOutput(); err != nil {
		t.Fatalf("gc beside a writer: %v\n%s", err, out)
	}
	if _, err := os.Stat(staged); err != nil {
		t.Fatalf("gc beside a writer removed its staged file: %v", err)
	}
	syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if out, err := strataCmd(env, "gc", "--prune=now").CombinedOutput(); err != nil {
		t.Fatalf("gc --prune=now alone: %v\n%s", err, out)
	}
	if _, err := os.Stat(staged); err == nil {
		t.Fatal("gc --prune=now alone kept an old staged file")
	}

	// While gc holds the lock, an import waits for it (seen in
	// /proc/locks as a blocked flock), then runs.
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	imp := strataCmd(env, "import", filepath.Join(env, "..", "rootfs"), "-b", "waited", "-m", "w")
	if err := imp.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { imp.Process.Kill(); imp.Wait() })
	if !waitsOn(t, lock, imp.Process.Pid) {
		t.Fatal("the import never waited on the writers lock gc held")
	}
	syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if err := imp.Wait(); err != nil {
		t.Fatalf("import after gc: %v", err)
	}
}

// waitsOn reports whether process pid (0: any) comes to wait for a
// flock on lock's file (a blocked entry in /proc/locks), polling a
// bounded time.
func waitsOn(t *testing.T, lock *os.File, pid int) bool {
	t.Helper()
	fi, err := lock.Stat()
	if err != nil {
		t.Fatal(err)
	}
	ino := ":" + strconv.FormatUint(fi.Sys().(*syscall.Stat_t).Ino, 10) + " "
	for range 600 { // bounded wait, not a timing check
		b, _ := os.ReadFile("/proc/locks")
		for _, l := range strings.Split(string(b), "\n") {
			if strings.Contains(l, "->") && strings.Contains(l, " FLOCK ") && (pid == 0 || strings.Contains(l, " "+strconv.Itoa(pid)+" ")) && strings.Contains(l, ino) {
				return true
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// TestRunPreparesAsWriter: "run --rev" mounts its tree (snapshots and
// their indexes staged in .strata/tmp) as a writer, so it waits for a
// pruning gc instead of losing its staging to it; once its container
// runs it holds the lock no more (TestGCSparesLiveRun prunes beside one).
func TestRunPreparesAsWriter(t *testing.T) {
	env := busyboxRepo(t)
	lock := flockWriters(t, env, syscall.LOCK_EX)
	run := strataCmd(env, "run", "--rev", "main", "--", "/bin/true")
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { run.Process.Kill(); run.Wait() })
	if !waitsOn(t, lock, run.Process.Pid) {
		t.Fatal("run --rev never waited on the writers lock a pruning gc held")
	}
	syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if err := run.Wait(); err != nil {
		t.Fatalf("run after gc: %v", err)
	}
}

// TestGCKeepsMountedStaging: gc never removes through a mount in
// .strata/tmp (a live build's overlay, say: the build holds a lock on
// its directory; a killed build's is unmounted, then removed), however
// old its directory.
func TestGCKeepsMountedStaging(t *testing.T) {
	env := busyboxRepo(t)
	dir := filepath.Join(env, ".strata", "tmp", "build-test")
	mnt := filepath.Join(dir, "merged")
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	held, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	if err := syscall.Flock(int(held.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Unmount(mnt, syscall.MNT_DETACH) })
	file := filepath.Join(mnt, "in-use")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-48 * time.Hour)
	os.Chtimes(dir, old, old)
	if out, err := strataCmd(env, "gc", "--prune=now").CombinedOutput(); err != nil {
		t.Fatalf("gc: %v\n%s", err, out)
	}
	if _, err := os.Stat(file); err != nil {
		t.Fatalf("gc removed a file through a mount: %v", err)
	}
}

// TestDetachedRunPreparesAsWriter: a detached run's supervisor mounts
// its tree as a writer too, and holds the lock no more once its
// container runs: a pruning gc can then go ahead.
func TestDetachedRunPreparesAsWriter(t *testing.T) {
	env := busyboxRepo(t)
	lock := flockWriters(t, env, syscall.LOCK_EX)
	run := strataCmd(env, "run", "-d", "--rev", "main", "--name", "prep", "--", "/bin/sleep", "600")
	var out strings.Builder
	run.Stdout = &out
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { run.Process.Kill(); run.Wait(); strataCmd(env, "rm", "-f", "prep").Run() })
	if !waitsOn(t, lock, 0) {
		t.Fatal("the supervisor never waited on the writers lock a pruning gc held")
	}
	syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if err := run.Wait(); err != nil || strings.TrimSpace(out.String()) != "prep" {
		t.Fatalf("run -d after gc: %v, %q", err, out.String())
	}
	if out, err := strataCmd(env, "gc", "--prune=now").CombinedOutput(); err != nil {
		t.Fatalf("gc --prune=now beside a running service: %v\n%s", err, out)
	}
}

// TestBisectRunPreparesAsWriter: each commit bisect run checks out is
// mounted as a writer: it waits for a pruning gc, then goes on.
func TestBisectRunPreparesAsWriter(t *testing.T) {
	dir := bisectRepo(t, 2)
	mustStrata(t, dir, "bisect", "start", "--no-checkout", "main", "main~2")
	t.Cleanup(func() { strataCmd(dir, "bisect", "reset").Run() })
	lock := flockWriters(t, dir, syscall.LOCK_EX)
	run := strataCmd(dir, "bisect", "run", "--", "true")
	var out strings.Builder
	run.Stdout, run.Stderr = &out, &out
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { run.Process.Kill(); run.Wait() })
	if !waitsOn(t, lock, run.Process.Pid) {
		t.Fatal("bisect run never waited on the writers lock a pruning gc held")
	}
	syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if err := run.Wait(); err != nil {
		t.Fatalf("bisect run after gc: %v\n%s", err, out.String())
	}
}

// TestRemountAfterRebootAsWriter: status remounting a work tree that a
// reboot unmounted builds its snapshots as a writer, waiting for a
// pruning gc; on a mounted tree it takes no lock (the first status
// would block otherwise).
func TestRemountAfterRebootAsWriter(t *testing.T) {
	env := busyboxRepo(t)
	mustStrata(t, env, "checkout", "main")
	lock := flockWriters(t, env, syscall.LOCK_EX)
	if out, err := strataCmd(env, "status").CombinedOutput(); err != nil {
		t.Fatalf("status on a mounted tree beside a pruning gc: %v\n%s", err, out)
	}
	rootfs := filepath.Join(env, "rootfs")
	if err := syscall.Unmount(rootfs, syscall.MNT_DETACH); err != nil {
		t.Fatal(err)
	}
	st := strataCmd(env, "status")
	var out strings.Builder
	st.Stdout, st.Stderr = &out, &out
	if err := st.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Process.Kill(); st.Wait() })
	if !waitsOn(t, lock, st.Process.Pid) {
		t.Fatal("status remounting the tree never waited on the writers lock a pruning gc held")
	}
	syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if err := st.Wait(); err != nil {
		t.Fatalf("status after gc: %v\n%s", err, out.String())
	}
	if _, err := os.Stat(filepath.Join(rootfs, "bin")); err != nil {
		t.Fatalf("status did not remount the tree: %v", err)
	}
}

// flockWriters takes the writers lock of the repository in dir as a
// command (LOCK_SH) or a pruning gc (LOCK_EX) would; the file closes,
// and the lock goes, when the test ends.
func flockWriters(t *testing.T, dir string, how int) *os.File {
	t.Helper()
	lock, err := os.OpenFile(filepath.Join(dir, ".strata", "writers.lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lock.Close() })
	if err := syscall.Flock(int(lock.Fd()), how); err != nil {
		t.Fatal(err)
	}
	return lock
}
