package worktree

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSwapsRefuseWhileAProcessIsInside: checkout, reset --hard, reset
// --soft and umount refuse while a shell has its cwd in the tree, naming
// it; forced, they detach the old mount lazily and never mount its upper
// again (no upper mounted while a live overlay holds it: watchUppers),
// and the shell goes on.
func TestSwapsRefuseWhileAProcessIsInside(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	_, c1, w := checkedOutBase(t)
	watchUppers(t, w)
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
		if !errors.As(err, &iu) || !strings.Contains(err.Error(), "rootfs is in use by 1 process: "+pid+" (busybox, in /etc)") {
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
	}
	if ds, _ := os.ReadDir(filepath.Join(w.Dir, "detached")); len(ds) != 4 {
		t.Fatalf("detached uppers: %d, want 4", len(ds))
	}
}

// TestUsersSeesOpenFilesAndMappings: a process whose cwd and root are
// elsewhere still uses the tree through an open file, or through a
// mapping of a program run from it.
func TestUsersSeesOpenFilesAndMappings(t *testing.T) {
	_, _, w := checkedOutBase(t)
	sleep, err := exec.LookPath("sleep")
	must(t, err)
	prog, err := os.ReadFile(sleep)
	must(t, err)
	must(t, os.WriteFile(w.Target()+"/sleep", prog, 0o755))

	start := func(cmd *exec.Cmd) int {
		cmd.Dir = "/"
		must(t, cmd.Start())
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		return cmd.Process.Pid
	}
	if ps, err := w.Users(); err != nil || len(ps) != 0 {
		t.Fatalf("Users before = %v, %v; want none", ps, err)
	}
	f, err := os.Open(w.Target() + "/etc/passwd")
	must(t, err)
	reader := exec.Command(sleep, "60")
	reader.Stdin = f
	readerPID := start(reader)
	f.Close()
	mapper := start(exec.Command(w.Target()+"/sleep", "60"))
	// The mapping appears once the exec is done.
	for i := 0; i < 200; i++ {
		if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/maps", mapper)); strings.Contains(string(b), w.Target()) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	ps, err := w.Users()
	must(t, err)
	var pids []int
	for _, p := range ps {
		pids = append(pids, p.PID)
	}
	if len(pids) != 2 || !slices.Contains(pids, readerPID) || !slices.Contains(pids, mapper) {
		t.Fatalf("Users = %v; want the open file's %d and the mapping's %d", ps, readerPID, mapper)
	}
}
