package main

import (
	"os"
	"os/exec"
	"path/filepath"
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

func TestFlockHolder(t *testing.T) {
	dir := t.TempDir()
	me := os.Getpid()
	held, heldSt := lockedFile(t, dir, "held", unix.LOCK_EX)
	shared, sharedSt := lockedFile(t, dir, "shared", unix.LOCK_SH)
	open, openSt := lockedFile(t, dir, "open", 0)

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
		{"the right guess", flockHolder(held, me), me},
		{"no guess", flockHolder(held, 0), me},
		{"a wrong guess falls back to /proc/locks", flockHolder(held, stranger), me},
		{"a guess that is no process", flockHolder(held, 1<<22+1), me},
		{"a shared lock, guessed", flockHolder(shared, me), 0},
		{"an unlocked file, guessed", flockHolder(open, me), 0},
		{"no such file", flockHolder(filepath.Join(dir, "none"), me), 0},
	} {
		if c.got != c.want {
			t.Errorf("%s: holder %d, want %d", c.what, c.got, c.want)
		}
	}
}
