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
// mount's identity (detached/<time>/dev). Once no process has its cwd,
// root, executable or an open file on that overlay, nothing can write
// there any more and PruneDetached deletes it.

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

// overlayID tells one overlay from every other. Its st_dev alone does
// not: the kernel hands a freed overlay's anonymous device number to the
// next overlay mounted, and that one's users would keep a detached upper
// forever. The f_fsid tells them apart: since Linux 6.6 an overlay on a
// new upper takes a uuid, kept on the upper, and reports it as f_fsid.
// On older kernels f_fsid is the upper file system's, the same for every
// overlay, and only the device number counts.
type overlayID struct {
	Dev  uint64
	FSID unix.Fsid // zero: not recorded, the device number alone counts
}

// matches reports whether a file on device dev, whose f_fsid fsid gives,
// lies on overlay o.
func (o overlayID) matches(dev uint64, fsid func() (unix.Fsid, bool)) bool {
	if dev != o.Dev {
		return false
	}
	if o.FSID == (unix.Fsid{}) {
		return true
	}
	got, ok := fsid()
	return ok && got == o.FSID
}

// targetOverlay identifies what is mounted at the target; Dev is 0 if
// nothing is.
func (w *Worktree) targetOverlay() overlayID {
	var st unix.Stat_t
	if unix.Stat(w.target, &st) != nil {
		return overlayID{}
	}
	id := overlayID{Dev: st.Dev}
	var sfs unix.Statfs_t
	if unix.Statfs(w.target, &sfs) == nil {
		id.FSID = sfs.Fsid
	}
	return id
}

// recordDetached notes, in a detached upper's directory, which overlay
// still uses it: "DEV FSID0 FSID1". Records of older strata hold DEV only.
func recordDetached(dir string, id overlayID) error {
	if id.Dev == 0 {
		return nil
	}
	rec := fmt.Sprintf("%d %d %d\n", id.Dev, id.FSID.Val[0], id.FSID.Val[1])
	if err := os.WriteFile(filepath.Join(dir, "dev"), []byte(rec), 0o600); err != nil {
		return fmt.Errorf("record a detached upper: %w", err)
	}
	return nil
}

// readDetached reads what recordDetached wrote; ok is false when nothing
// usable was recorded.
func readDetached(dir string) (overlayID, bool) {
	b, err := os.ReadFile(filepath.Join(dir, "dev"))
	if err != nil {
		return overlayID{}, false
	}
	f := strings.Fields(string(b))
	if len(f) != 1 && len(f) != 3 {
		return overlayID{}, false
	}
	var id overlayID
	if id.Dev, err = strconv.ParseUint(f[0], 10, 64); err != nil || id.Dev == 0 {
		return overlayID{}, false
	}
	if len(f) == 3 {
		for i := range 2 {
			v, err := strconv.ParseInt(f[1+i], 10, 32)
			if err != nil {
				return overlayID{}, false
			}
			id.FSID.Val[i] = int32(v)
		}
	}
	return id, true
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
		if id, ok := readDetached(d.Dir); ok {
			d.Procs = procsOn(id)
		} else {
			d.Unknown = true
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

// procsOn lists the processes whose cwd, root, executable or an open
// file lies on overlay id: the users of a lazily detached mount (in any
// mount namespace). A process that only maps a file from it is not seen:
// mappings show the file under the overlay, not the overlay's device.
func procsOn(id overlayID) []Proc {
	entries, _ := os.ReadDir("/proc")
	self := os.Getpid()
	var out []Proc
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		base := "/proc/" + e.Name()
		if procOn(base, id) || onOverlayAt(unix.AT_FDCWD, base+"/exe", id) {
			comm, _ := os.ReadFile(base + "/comm")
			out = append(out, Proc{PID: pid, Comm: strings.TrimSpace(string(comm))})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out
}

// procOn reports whether the process at /proc/PID base has its cwd,
// root or an open file on overlay id.
func procOn(base string, id overlayID) bool {
	pfd, err := unix.Open(base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(pfd)
	return procOnAt(pfd, id)
}

// procOnAt is procOn of the /proc/PID directory pfd: its entries are
// reached from the open directory, not by path each time.
func procOnAt(pfd int, id overlayID) bool {
	if onOverlayAt(pfd, "cwd", id) || onOverlayAt(pfd, "root", id) {
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
		if onOverlayAt(fd, n, id) {
			return true
		}
	}
	return false
}

// onOverlayAt reports whether name in dfd, followed (a /proc magic
// link), lies on overlay id. The f_fsid is asked only of a file on the
// right device: most files are not.
func onOverlayAt(dfd int, name string, id overlayID) bool {
	var st unix.Stat_t
	if unix.Fstatat(dfd, name, &st, 0) != nil {
		return false
	}
	return id.matches(st.Dev, func() (unix.Fsid, bool) {
		fd, err := unix.Openat(dfd, name, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			return unix.Fsid{}, false
		}
		defer unix.Close(fd)
		var sfs unix.Statfs_t
		if unix.Fstatfs(fd, &sfs) != nil {
			return unix.Fsid{}, false
		}
		return sfs.Fsid, true
	})
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
