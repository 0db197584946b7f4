package worktree

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/strata-sh/strata/internal/mountopt"
)

// watchUppers has every overlay w mounts checked, just before it is
// mounted, for what overlayfs would warn of ("upperdir is in-use"): a
// live overlay that holds its upper. Each such upper is a test error at
// once. Counting the kernel's warnings instead counted every process's
// on the machine: another test's made this one fail.
func watchUppers(t *testing.T, w *Worktree) {
	t.Helper()
	probe := newInUseProbe(t)
	var mu sync.Mutex
	w.beforeMount = func(upper string) {
		mu.Lock()
		defer mu.Unlock()
		held, err := probe.held(upper)
		if err != nil {
			t.Errorf("probe %s: %v", upper, err)
		}
		if held {
			t.Errorf("mounted %s while a live overlay holds it (overlayfs: upperdir is in-use)", upper)
		}
	}
	t.Cleanup(func() { w.beforeMount = nil })
}

// inUseProbe asks the kernel whether a live overlay holds a directory as
// its upper: it makes an overlay context with that upper, index=on and
// a work directory on another mount, and creates it. overlayfs takes the
// upper's in-use mark first, which index=on turns from a warning into
// EBUSY, then refuses the work directory (EINVAL: not under the upper's
// mount) before it writes anything; the mark is given back.
type inUseProbe struct{ lower, work string }

func newInUseProbe(t *testing.T) inUseProbe {
	t.Helper()
	requireRoot(t)
	p := inUseProbe{lower: t.TempDir(), work: t.TempDir()}
	// A mount of the probe's own, so that the work directory is never
	// under the upper's mount, wherever the test's files are.
	if err := unix.Mount("tmpfs", p.work, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatalf("probe: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(p.work, unix.MNT_DETACH) })
	return p
}

// held reports whether a live overlay holds upper.
func (p inUseProbe) held(upper string) (bool, error) {
	fd, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return false, err
	}
	defer unix.Close(fd)
	for _, kv := range [][2]string{{"lowerdir+", p.lower}, {"upperdir", mountopt.Escape(upper)}, {"workdir", mountopt.Escape(p.work)}, {"index", "on"}} {
		if err := unix.FsconfigSetString(fd, kv[0], kv[1]); err != nil {
			return false, err
		}
	}
	switch err := unix.FsconfigCreate(fd); {
	case errors.Is(err, unix.EBUSY):
		return true, nil
	case errors.Is(err, unix.EINVAL):
		return false, nil
	case err == nil:
		return false, errors.New("the probe's overlay was made: it refuses no work directory here")
	default:
		return false, err
	}
}

// TestInUseProbe: the probe says held of an upper a mounted overlay
// uses, and of one a lazily unmounted overlay still uses (a process has
// its cwd there), and free of it once no overlay does; it leaves no
// mark on the directory.
func TestInUseProbe(t *testing.T) {
	probe := newInUseProbe(t)
	d := t.TempDir()
	for _, s := range []string{"lower", "upper", "work", "mnt"} {
		must(t, os.Mkdir(filepath.Join(d, s), 0o755))
	}
	upper, mnt := filepath.Join(d, "upper"), filepath.Join(d, "mnt")
	expect := func(when string, want bool) {
		t.Helper()
		held, err := probe.held(upper)
		if err != nil || held != want {
			t.Fatalf("%s: held = %v, %v; want %v", when, held, err, want)
		}
	}
	expect("before any mount", false)
	opts := "lowerdir=" + filepath.Join(d, "lower") + ",upperdir=" + upper + ",workdir=" + filepath.Join(d, "work")
	must(t, unix.Mount("overlay", mnt, "overlay", 0, opts))
	t.Cleanup(func() { unix.Unmount(mnt, unix.MNT_DETACH) })
	expect("mounted", true)
	sh := shellIn(t, mnt)
	must(t, unix.Unmount(mnt, unix.MNT_DETACH))
	expect("detached, a shell inside", true)
	sh("cd /")
	expect("detached, no one inside", false)
	expect("probed again", false)
	if names, _ := os.ReadDir(upper); len(names) != 0 {
		t.Fatalf("the probe wrote into the upper: %v", names)
	}
}
