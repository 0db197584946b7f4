package main

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/strata-sh/strata/internal/regfile"
)

// flockHolder returns the pid of the process that holds an exclusive
// flock on the regular file at path (not through a symbolic link), or 0. The kernel says so in two places:
// the fdinfo of the holder's open file, and /proc/locks. Reading
// /proc/locks takes the kernel's file_rwsem for writing, which waits
// for an RCU grace period: 8 to 20 ms on the 2026-12-06 VM, more than
// all the rest of an exec. So the process likely to hold it (guess, such
// as a run's recorded supervisor, or 0 for none) is asked first, through
// its fdinfo, which takes a spin lock only; /proc/locks is read when the
// guess does not hold the lock or cannot be read (not ours to trace).
// guessFd, if above 0, is the descriptor the guess recorded it holds the
// lock on: its fdinfo alone is read first, where a supervisor has a dozen
// open files (about 20 µs each on the 2026-12-07 VM, on every exec).
func flockHolder(path string, guess, guessFd int) int {
	// The lock itself, never what a symbolic link planted in its place
	// leads to (another process's lock: svc_files.go).
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return 0
	}
	pid := inodeFlockHolder(path, &st, guess, guessFd)
	if pid > 0 && st.Nlink > 1 && !heldThrough(pid, path, &st) {
		return 0
	}
	return pid
}

// inodeFlockHolder is flockHolder's answer for the inode st, whatever
// its name.
func inodeFlockHolder(path string, st *unix.Stat_t, guess, guessFd int) int {
	if guess > 0 {
		if guessFd > 0 {
			if pid := fdFlockHolder("/proc/"+strconv.Itoa(guess), strconv.Itoa(guessFd), st); pid > 0 {
				return pid
			}
		}
		if pid := fdinfoFlockHolder(guess, st); pid > 0 {
			return pid
		}
	}
	b, err := os.ReadFile("/proc/locks")
	if err != nil {
		return 0
	}
	return holderInLocks(path, st, b)
}

// heldThrough reports whether pid holds its flock on the file st through
// a descriptor it opened under the name path. A lock strata makes has
// one name; one with more may be a hard link planted in a repository to
// a file another process holds (its pid file, flock(1)'s), whose holder
// would else pass for the run's supervisor and its child for the
// container that stop and kill signal and exec joins. A run's lock
// copied with its directory by cp -al is held under the name its
// supervisor opened, so the run is live there and not in the copy.
func heldThrough(pid int, path string, st *unix.Stat_t) bool {
	want, err := filepath.EvalSymlinks(path)
	if err != nil {
		return false
	}
	proc := "/proc/" + strconv.Itoa(pid)
	d, err := os.Open(proc + "/fdinfo")
	if err != nil {
		return false
	}
	fds, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return false
	}
	for _, fd := range fds {
		if name, err := os.Readlink(proc + "/fd/" + fd); err != nil || name != want {
			continue
		}
		if holdsLock(proc, fd, st) {
			return true
		}
	}
	return false
}

// holdsLock reports whether the open file fd of process proc holds an
// exclusive flock on the file st (by inode number alone: on an overlay
// the lock names the upper's device).
func holdsLock(proc, fd string, st *unix.Stat_t) bool {
	b, err := os.ReadFile(proc + "/fdinfo/" + fd)
	if err != nil {
		return false
	}
	for line := range strings.Lines(string(b)) {
		rest, ok := strings.CutPrefix(line, "lock:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if exclusiveFlockPid(f) > 0 {
			if _, ino := lockNamesFile(f[5], st); ino {
				return true
			}
		}
	}
	return false
}

// holderInLocks is flockHolder's answer from locks, /proc/locks'
// content. A lock it names by inode number alone (the device differs,
// as on an overlay) may be another file's, on another file system: it
// is this one's only if the kernel says this file is locked.
func holderInLocks(path string, st *unix.Stat_t, locks []byte) int {
	pid, exact := locksFlockHolder(locks, st)
	if pid > 0 && !exact && !lockedExclusively(path) {
		return 0
	}
	return pid
}

// lockedExclusively reports whether the kernel refuses a shared flock on
// the file at path: another open file holds an exclusive one. As live's,
// the probe's own lock is let go at once.
func lockedExclusively(path string) bool {
	f, err := regfile.OpenNoFollow(path)
	if err != nil {
		return false
	}
	defer f.Close()
	err = unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB)
	return errors.Is(err, unix.EWOULDBLOCK)
}

// fdinfoFlockHolder returns the pid that holds an exclusive flock on the
// file st through one of pid's open files, from their fdinfo, or 0. The
// kernel lists in an open file's fdinfo the locks that open file holds,
// as /proc/locks names them. Only fdinfo is read, never the open files
// themselves: the pid comes from a state file, which may name any
// process, one with a file on a hung FUSE mount among them.
func fdinfoFlockHolder(pid int, st *unix.Stat_t) int {
	proc := "/proc/" + strconv.Itoa(pid)
	d, err := os.Open(proc + "/fdinfo")
	if err != nil {
		return 0
	}
	fds, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return 0
	}
	for _, fd := range fds {
		if holder := fdFlockHolder(proc, fd, st); holder > 0 {
			return holder
		}
	}
	return 0
}

// fdFlockHolder returns the pid that holds an exclusive flock on the
// file st through the open file fd of process proc (/proc/PID), as that
// file's fdinfo says, or 0.
func fdFlockHolder(proc, fd string, st *unix.Stat_t) int {
	b, err := os.ReadFile(proc + "/fdinfo/" + fd)
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		// lock:	1: FLOCK  ADVISORY  WRITE 22635 fe:00:10020333 0 EOF
		rest, ok := strings.CutPrefix(line, "lock:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if holder := exclusiveFlockPid(f); holder > 0 {
			if exact, _ := lockNamesFile(f[5], st); exact {
				return holder
			}
		}
	}
	return 0
}

// lockNamesFile reports whether a lock line's maj:min:ino (hexadecimal
// device numbers, decimal inode) names the file st: exact, by device and
// inode; ino, by inode number alone.
func lockNamesFile(field string, st *unix.Stat_t) (exact, ino bool) {
	dev, num, ok := strings.Cut(field, ":")
	if !ok {
		return false, false
	}
	min, num, ok := strings.Cut(num, ":")
	if !ok || num != strconv.FormatUint(st.Ino, 10) {
		return false, false
	}
	M, err1 := strconv.ParseUint(dev, 16, 32)
	m, err2 := strconv.ParseUint(min, 16, 32)
	return err1 == nil && err2 == nil && unix.Mkdev(uint32(M), uint32(m)) == st.Dev, true
}

// exclusiveFlockPid returns the pid of a lock line's fields (as
// /proc/locks writes them: "1:", "FLOCK", "ADVISORY", "WRITE", pid,
// maj:min:ino, ...) if it is an exclusive flock, or 0.
func exclusiveFlockPid(f []string) int {
	if len(f) < 6 || f[1] != "FLOCK" || f[3] != "WRITE" {
		return 0
	}
	pid, err := strconv.Atoi(f[4])
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

// locksFlockHolder returns the pid that holds an exclusive flock on the
// file st according to locks, /proc/locks' content, or 0; exact says
// that the lock names st's device too, not its inode number alone.
func locksFlockHolder(locks []byte, st *unix.Stat_t) (pid int, exact bool) {
	var same []int // holders of a lock on an inode of that number
	for _, line := range strings.Split(string(locks), "\n") {
		// 1: FLOCK  ADVISORY  WRITE 22635 fe:00:10020333 0 EOF
		f := strings.Fields(line)
		pid := exclusiveFlockPid(f)
		if pid == 0 {
			continue
		}
		exact, ino := lockNamesFile(f[5], st)
		if exact {
			return pid, true
		}
		if ino {
			same = append(same, pid)
		}
	}
	// On an overlay, stat's device may not be the one the lock names.
	if len(same) == 1 {
		return same[0], false
	}
	return 0, false
}
