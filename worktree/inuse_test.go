package worktree

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// kernelInUse watches the kernel log from now on and returns a function
// that counts the "upperdir is in-use" records logged since. It reads
// /dev/kmsg from its end: counting lines of dmesg before and after is
// fooled by the ring buffer, which drops old records as new ones come.
func kernelInUse(t *testing.T) func() int {
	t.Helper()
	// Raw reads: an *os.File would park a read of an empty log in the
	// poller instead of returning EAGAIN.
	fd, err := syscall.Open("/dev/kmsg", syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("kernel log: %v", err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if _, err := syscall.Seek(fd, 0, io.SeekEnd); err != nil {
		t.Fatalf("kernel log: %v", err)
	}
	n := 0
	buf := make([]byte, 8192)
	return func() int {
		for {
			k, err := syscall.Read(fd, buf) // one record a read
			if errors.Is(err, syscall.EPIPE) {
				continue // records were overwritten under us: go on with the next
			}
			if err != nil || k <= 0 { // EAGAIN: nothing more for now
				return n
			}
			if strings.Contains(string(buf[:k]), "upperdir is in-use") {
				n++
			}
		}
	}
}

// TestSwapsRefuseWhileAProcessIsInside: checkout, reset --hard, reset
// --soft and umount refuse while a shell has its cwd in the tree, naming
// it; forced, they detach the old mount lazily and never mount its upper
// again (no "upperdir is in-use" from the kernel), and the shell goes on.
func TestSwapsRefuseWhileAProcessIsInside(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	inUse := kernelInUse(t)
	r := newRepo(t)
	base := filepath.Join(t.TempDir(), "base")
	writeBase(t, base)
	c1 := commitDir(t, r, base, "base")
	w := checkoutMain(t, r, "main")
	must(t, write(w.Target()+"/etc/two", "two\n"))
	c2, _, err := w.Commit(ctx, CommitOptions{Message: "two"})
	must(t, err)

	for round, swap := range []struct {
		name string
		do   func() error
	}{
		{"checkout", func() error { _, err := w.Checkout(ctx, CheckoutOptions{Rev: c1.ID.String(), Force: true}); return err }},
		{"reset --hard", func() error { _, err := w.Reset(ctx, c2.ID.String(), ResetHard); return err }},
		{"reset --soft", func() error { _, err := w.Reset(ctx, c1.ID.String(), ResetSoft); return err }},
		{"umount", w.Umount},
	} {
		sh := shellIn(t, filepath.Join(w.Target(), "etc"))
		pid := strings.TrimSpace(sh("echo $$"))
		sh(fmt.Sprintf("echo %d > mine", round))
		err := w.RefuseWhileRunning()
		var iu *InUseError
		if !errors.As(err, &iu) || !strings.Contains(err.Error(), "rootfs is in use by 1 process: "+pid+" (busybox)") {
			t.Fatalf("%s: RefuseWhileRunning = %v; want rootfs in use by %s", swap.name, err, pid)
		}
		must(t, swap.do()) // forced: the caller checked
		if out := sh("cat mine && echo ok > after"); out != fmt.Sprintf("%d\n", round) {
			t.Fatalf("%s: the shell inside after the swap: %q", swap.name, out)
		}
		if _, err := w.Ensure(ctx); err != nil {
			t.Fatal(err)
		}
		if err := w.RefuseWhileRunning(); err != nil {
			t.Fatalf("%s: the new mount is still used: %v", swap.name, err)
		}
		if _, err := os.Stat(w.Target() + "/etc/after"); err == nil {
			t.Fatalf("%s: a write through the detached mount reached the new one", swap.name)
		}
		if got := inUse(); got != 0 {
			t.Fatalf("%s: the kernel logged %d 'upperdir is in-use' lines", swap.name, got)
		}
	}
	if ds, _ := os.ReadDir(filepath.Join(w.Dir, "detached")); len(ds) != 4 {
		t.Fatalf("detached uppers: %d, want 4", len(ds))
	}
}

// TestKernelInUseSeesNewRecords: the watcher counts a record logged after
// it started, and none logged before.
func TestKernelInUseSeesNewRecords(t *testing.T) {
	requireRoot(t)
	logKernel := func(msg string) {
		if err := os.WriteFile("/dev/kmsg", []byte(msg), 0); err != nil {
			t.Fatal(err)
		}
	}
	logKernel("strata test (before the watch): upperdir is in-use, not counted")
	inUse := kernelInUse(t)
	if n := inUse(); n != 0 {
		t.Fatalf("counted %d records logged before the watch", n)
	}
	logKernel("strata test: upperdir is in-use, counted")
	if n := inUse(); n != 1 {
		t.Fatalf("counted %d records, want 1", n)
	}
}
