package exec

import (
	"log/slog"
	"os"
	osexec "os/exec"
	"slices"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The watchdog is a small helper process started next to a running
// container that has a cgroup (see watchdogHandle for when). Strata holds the write end of a pipe to it: on a normal exit
// strata removes the cgroup itself and writes "d"; if strata dies (even by
// SIGKILL) the pipe reaches EOF without "d", and the watchdog waits for the
// container (killed by its parent-death signal) to leave the cgroup, removes
// it and the run's temporary files, detaches Spec.CrashUnmount, and exits.

// ModeVar names the helper a process of strata's binary is (init,
// watchdog, join, ...): set in the environment of each re-execution
// (Reexec), never in a command line's.
const ModeVar = "_STRATA_EXEC_MODE"

const envMode = ModeVar

// startWatchdog runs the sealed init binary exe (which knows the
// watchdog's mode too): smaller than strata, so quicker to start.
func startWatchdog(exe *os.File, cg *cgroup, tmpDir, umount string) (*os.File, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	child, err := ChildSetting(r.Fd())
	if err != nil {
		w.Close()
		return nil, err
	}
	args := append([]string{"strata-watchdog", tmpDir}, cg.dirs...)
	if umount != "" {
		args = append(args, watchdogUmount, umount)
	}
	cmd := &osexec.Cmd{
		// exe goes last and is executed under its number in the child (see
		// launch in launch.go).
		Path:        "/proc/self/fd/4",
		Args:        args,
		Env:         []string{envMode + "=watchdog", child, "GOMAXPROCS=1"},
		ExtraFiles:  []*os.File{r, exe},
		SysProcAttr: &syscall.SysProcAttr{Setsid: true}, // not killed with strata's process group
	}
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, err
	}
	go cmd.Wait()
	return w, nil
}

// watchdogDelay is how long a container runs before it gets a watchdog.
// The watchdog costs a fork and exec (about a millisecond of CPU, more on a
// loaded machine), which a container that is gone sooner never pays. Until
// the watchdog runs, a strata killed by SIGKILL leaves the cgroup (empty by
// then: the parent-death signal killed the container) to the next Run's
// sweep.
const watchdogDelay = 10 * time.Millisecond

// watchdogHandle is a watchdog started in the background once the
// container has run for watchdogDelay.
type watchdogHandle struct {
	mu      sync.Mutex
	stopped bool          // stop came first: do not start
	begun   bool          // the start is under way
	cancel  chan struct{} // closed by stop
	done    chan struct{} // closed when the goroutine is finished
	w       *os.File
}

func goWatchdog(exeOf func() (*os.File, error), cg *cgroup, tmpDir, umount string) *watchdogHandle {
	h := &watchdogHandle{cancel: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(h.done)
		t := time.NewTimer(watchdogDelay)
		defer t.Stop()
		select {
		case <-h.cancel:
			return
		case <-t.C:
		}
		h.mu.Lock()
		if h.stopped {
			h.mu.Unlock()
			return
		}
		h.begun = true
		h.mu.Unlock()
		h.w = watchdogFrom(exeOf, cg, tmpDir, umount)
	}()
	return h
}

// stop cancels a watchdog not yet started, or waits for its start and
// tells it that strata cleaned up itself. A nil handle does nothing.
func (h *watchdogHandle) stop() {
	if h == nil {
		return
	}
	h.mu.Lock()
	h.stopped = true
	begun := h.begun
	h.mu.Unlock()
	close(h.cancel)
	if begun {
		<-h.done
		stopWatchdog(h.w)
	}
}

// stopWatchdog tells the watchdog that strata cleaned up itself.
func stopWatchdog(w *os.File) {
	if w != nil {
		w.Write([]byte{'d'})
		w.Close()
	}
}

func watchdog() {
	buf := make([]byte, 1)
	n, _ := os.NewFile(3, "watchdog").Read(buf)
	if n == 1 && buf[0] == 'd' {
		os.Exit(0)
	}
	args := os.Args[1:]
	if len(args) == 0 {
		os.Exit(1)
	}
	if args[0] != "" {
		os.RemoveAll(args[0])
	}
	dirs, umount := args[1:], ""
	if i := slices.Index(dirs, watchdogUmount); i >= 0 && i+1 < len(dirs) {
		dirs, umount = dirs[:i], dirs[i+1]
	}
	if removeCgroupDirs(dirs, 30*time.Second) != nil {
		os.Exit(1)
	}
	// The container is gone: nothing uses the mount any more.
	if umount != "" && unix.Unmount(umount, unix.MNT_DETACH) != nil {
		os.Exit(1)
	}
	os.Exit(0)
}

// watchdogUmount comes before Spec.CrashUnmount in the watchdog's
// arguments, after the cgroup directories (absolute paths).
const watchdogUmount = "--umount"

// watchdogFrom starts the watchdog from the binary exeOf returns, or says
// why not: a run goes on without one.
func watchdogFrom(exeOf func() (*os.File, error), cg *cgroup, tmpDir, umount string) *os.File {
	exe, err := exeOf()
	var w *os.File
	if err == nil {
		w, err = startWatchdog(exe, cg, tmpDir, umount)
	}
	if err != nil {
		slog.Warn("start container watchdog: cgroup cleanup after a crash is left to the next run", "err", err)
	}
	return w
}
