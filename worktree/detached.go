package worktree

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// A mount that --force detached lazily lives on while processes use it,
// writing to its upper, which is kept in detached/<time>/ beside the
// mount's st_dev (detached/<time>/dev). Once no process has its cwd, root,
// executable or an open file on that device, nothing can write there any
// more and PruneDetached deletes it.

// Detached is an upper kept for a lazily detached mount.
type Detached struct {
	Dir   string // .strata/worktree/detached/<time>
	Bytes int64  // what its files hold
	Procs []Proc // the processes still using its mount
	// Unknown: no device was recorded (kept before strata recorded
	// them); it is never deleted, only shown.
	Unknown bool
}

// InUse reports whether the upper must be kept.
func (d Detached) InUse() bool { return d.Unknown || len(d.Procs) > 0 }

// targetDev is the st_dev of what is mounted at the target, 0 if nothing.
func (w *Worktree) targetDev() uint64 {
	var st unix.Stat_t
	if unix.Stat(w.target, &st) != nil {
		return 0
	}
	return st.Dev
}

// recordDetached notes, in a detached upper's directory, the device of
// the mount that still uses it.
func recordDetached(dir string, dev uint64) error {
	if dev == 0 {
		return nil
	}
	if err := os.WriteFile(filepath.Join(dir, "dev"), []byte(strconv.FormatUint(dev, 10)+"\n"), 0o600); err != nil {
		return fmt.Errorf("record a detached upper: %w", err)
	}
	return nil
}

// DetachedUppers lists the work tree's detached uppers, oldest first,
// with their size and the processes that still use each.
func (w *Worktree) DetachedUppers() ([]Detached, error) {
	root := filepath.Join(w.Dir, "detached")
	entries, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("detached uppers: %w", err)
	}
	var out []Detached
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		d := Detached{Dir: filepath.Join(root, e.Name()), Bytes: treeBytes(filepath.Join(root, e.Name()))}
		b, err := os.ReadFile(filepath.Join(d.Dir, "dev"))
		dev, perr := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		if err != nil || perr != nil || dev == 0 {
			d.Unknown = true
		} else {
			d.Procs = procsOnDev(dev)
		}
		out = append(out, d)
	}
	return out, nil
}

// PruneDetached deletes the detached uppers no process uses any more
// (only lists them with dryRun) and returns them.
func (w *Worktree) PruneDetached(dryRun bool) ([]Detached, error) {
	all, err := w.DetachedUppers()
	if err != nil {
		return nil, err
	}
	var gone []Detached
	for _, d := range all {
		if d.InUse() {
			continue
		}
		if !dryRun {
			if err := os.RemoveAll(d.Dir); err != nil {
				return gone, fmt.Errorf("remove detached upper: %w", err)
			}
		}
		gone = append(gone, d)
	}
	if !dryRun && len(gone) == len(all) && len(all) > 0 {
		os.Remove(filepath.Join(w.Dir, "detached"))
	}
	return gone, nil
}

// procsOnDev lists the processes whose cwd, root, executable or an open
// file lies on device dev: the users of a lazily detached mount (in any
// mount namespace). A process that only maps a file from it is not seen:
// mappings show the file under the overlay, not the overlay's device.
func procsOnDev(dev uint64) []Proc {
	entries, _ := os.ReadDir("/proc")
	self := os.Getpid()
	var out []Proc
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		base := "/proc/" + e.Name()
		if procOnDev(base, dev) || onDev(base+"/exe", dev) {
			comm, _ := os.ReadFile(base + "/comm")
			out = append(out, Proc{PID: pid, Comm: strings.TrimSpace(string(comm))})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out
}

// procOnDev reports whether the process at /proc/PID base has its cwd,
// root or an open file on device dev.
func procOnDev(base string, dev uint64) bool {
	pfd, err := unix.Open(base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(pfd)
	return procOnDevAt(pfd, dev)
}

// procOnDevAt is procOnDev of the /proc/PID directory pfd: its entries
// are reached from the open directory, not by path each time.
func procOnDevAt(pfd int, dev uint64) bool {
	if onDevAt(pfd, "cwd", dev) || onDevAt(pfd, "root", dev) {
		return true
	}
	fd, err := unix.Openat(pfd, "fd", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	f := os.NewFile(uintptr(fd), "fd")
	defer f.Close()
	names, _ := f.Readdirnames(-1)
	for _, n := range names {
		if onDevAt(fd, n, dev) {
			return true
		}
	}
	return false
}

func onDev(p string, dev uint64) bool {
	var st unix.Stat_t
	return unix.Stat(p, &st) == nil && st.Dev == dev
}

// onDevAt stats name in dfd, following it (a /proc magic link).
func onDevAt(dfd int, name string, dev uint64) bool {
	var st unix.Stat_t
	return unix.Fstatat(dfd, name, &st, 0) == nil && st.Dev == dev
}

// treeBytes is the size of the regular files under dir.
func treeBytes(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && e.Type().IsRegular() {
			if fi, err := e.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
