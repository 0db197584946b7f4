package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// lockedFile opens a new file in dir and flocks it with how (0: no lock).
func lockedFile(t *testing.T, dir, name string, how int) (string, *unix.Stat_t) {
	t.Helper()
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if how != 0 {
		if err := unix.Flock(int(f.Fd()), how|unix.LOCK_NB); err != nil {
			t.Fatal(err)
		}
	}
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return path, &st
}

// fdOf is this process's descriptor of the file st.
func fdOf(t *testing.T, st *unix.Stat_t) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		fd, _ := strconv.Atoi(e.Name())
		var fst unix.Stat_t
		if unix.Fstat(fd, &fst) == nil && fst.Dev == st.Dev && fst.Ino == st.Ino {
			return fd
		}
	}
	t.Fatalf("no descriptor of inode %d", st.Ino)
	return -1
}

func TestFlockHolder(t *testing.T) {
	dir := t.TempDir()
	me := os.Getpid()
	held, heldSt := lockedFile(t, dir, "held", unix.LOCK_EX)
	shared, sharedSt := lockedFile(t, dir, "shared", unix.LOCK_SH)
	open, openSt := lockedFile(t, dir, "open", 0)
	proc := "/proc/" + strconv.Itoa(me)
	heldFd, sharedFd, openFd := fdOf(t, heldSt), fdOf(t, sharedSt), fdOf(t, openSt)
	// A link planted as a run's lock, to a file another process holds.
	link := filepath.Join(dir, "link")
	if err := os.Symlink(held, link); err != nil {
		t.Fatal(err)
	}
	// A hard link planted so: held has two names now, and is held
	// under the first alone (as a lock copied by cp -al).
	hard := filepath.Join(dir, "hard")
	if err := os.Link(held, hard); err != nil {
		t.Fatal(err)
	}

	// A process that holds none of them, as a stale recorded pid may be.
	other := exec.Command("sleep", "60")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Process.Kill(); other.Wait() })
	stranger := other.Process.Pid

	for _, c := range []struct {
		what string
		got  int
		want int
	}{
		{"fdinfo of the holder", fdinfoFlockHolder(me, heldSt), me},
		{"fdinfo of a process that holds nothing", fdinfoFlockHolder(stranger, heldSt), 0},
		{"fdinfo of a shared lock", fdinfoFlockHolder(me, sharedSt), 0},
		{"fdinfo of an open file with no lock", fdinfoFlockHolder(me, openSt), 0},
		{"/proc/locks of the held file", procLocksFlockHolder(heldSt), me},
		{"/proc/locks of a shared lock", procLocksFlockHolder(sharedSt), 0},
		{"/proc/locks of an open file", procLocksFlockHolder(openSt), 0},
		{"the right guess", flockHolder(held, me, 0), me},
		{"no guess", flockHolder(held, 0, 0), me},
		{"a wrong guess falls back to /proc/locks", flockHolder(held, stranger, 0), me},
		{"a guess that is no process", flockHolder(held, 1<<22+1, 0), me},
		{"a shared lock, guessed", flockHolder(shared, me, 0), 0},
		{"an unlocked file, guessed", flockHolder(open, me, 0), 0},
		{"no such file", flockHolder(filepath.Join(dir, "none"), me, 0), 0},
		{"the right guess and descriptor", flockHolder(held, me, heldFd), me},
		{"a descriptor of another file falls back to the others", flockHolder(held, me, openFd), me},
		{"a descriptor that is not open", flockHolder(held, me, 1<<20), me},
		{"the right descriptor of a wrong guess", flockHolder(held, stranger, heldFd), me},
		{"a link to a held file", flockHolder(link, 0, 0), 0},
		{"a link to a held file, its holder guessed", flockHolder(link, me, heldFd), 0},
		{"a hard link to a held file", flockHolder(hard, 0, 0), 0},
		{"a hard link to a held file, its holder guessed", flockHolder(hard, me, heldFd), 0},
		{"fdinfo of the holding descriptor", fdFlockHolder(proc, strconv.Itoa(heldFd), heldSt), me},
		{"fdinfo of another descriptor", fdFlockHolder(proc, strconv.Itoa(openFd), heldSt), 0},
		{"fdinfo of a descriptor on a shared lock", fdFlockHolder(proc, strconv.Itoa(sharedFd), sharedSt), 0},
	} {
		if c.got != c.want {
			t.Errorf("%s: holder %d, want %d", c.what, c.got, c.want)
		}
	}
}

// TestFlockHolderInodeOnly: /proc/locks names a lock by device and inode
// number; one that names another device (an overlay's file is locked
// through its upper's) matches by the number alone, which a file of
// another file system may share. Such a lock is the file's only if the
// kernel says the file is locked: a same-numbered lock on another device
// is not taken for the holder of a file no one locks.
func TestFlockHolderInodeOnly(t *testing.T) {
	dir := t.TempDir()
	held, heldSt := lockedFile(t, dir, "held", unix.LOCK_EX)
	open, openSt := lockedFile(t, dir, "open", 0)
	otherDev := func(st *unix.Stat_t) []byte {
		// A device no file here is on: major 0xfff, minor 0xff.
		return []byte(fmt.Sprintf("1: FLOCK  ADVISORY  WRITE 4242 fff:ff:%d 0 EOF\n", st.Ino))
	}
	if got := holderInLocks(open, openSt, otherDev(openSt)); got != 0 {
		t.Errorf("a file no one locks, with a same-numbered lock on another device: holder %d, want 0", got)
	}
	if got := holderInLocks(held, heldSt, otherDev(heldSt)); got != 4242 {
		t.Errorf("a locked file whose lock names another device (an overlay's): holder %d, want 4242", got)
	}
	me := os.Getpid()
	exact := []byte(fmt.Sprintf("1: FLOCK  ADVISORY  WRITE %d %x:%x:%d 0 EOF\n", me, unix.Major(heldSt.Dev), unix.Minor(heldSt.Dev), heldSt.Ino))
	if got := holderInLocks(held, heldSt, exact); got != me {
		t.Errorf("an exact lock line: holder %d, want %d", got, me)
	}
}

// BenchmarkFlockHolder finds the holder of a lock this process holds,
// among a dozen open files as a supervisor has, by scanning every
// descriptor's fdinfo and by the one recorded descriptor.
func BenchmarkFlockHolder(b *testing.B) {
	dir := b.TempDir()
	for i := range 12 {
		f, err := os.Create(filepath.Join(dir, fmt.Sprint("open", i)))
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
	}
	path := filepath.Join(dir, "lock")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		b.Fatal(err)
	}
	me := os.Getpid()
	for _, c := range []struct {
		name string
		fd   int
	}{{"scan", 0}, {"recorded", int(f.Fd())}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if flockHolder(path, me, c.fd) != me {
					b.Fatal("holder not found")
				}
			}
		})
	}
}

// procLocksFlockHolder returns the pid that holds an exclusive flock on
// the file st, from /proc/locks, or 0.
func procLocksFlockHolder(st *unix.Stat_t) int {
	b, err := os.ReadFile("/proc/locks")
	if err != nil {
		return 0
	}
	pid, _ := locksFlockHolder(b, st)
	return pid
}
