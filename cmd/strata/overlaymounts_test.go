package main

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/worktree"
)

// watchOverlayMounts returns a function that counts the overlay mounts
// of the work tree at target (in dir's repository) made since: at every
// mount overlayfs empties its work directory's "work" subdirectory by
// removing and making it again (ovl_workdir_create), which inotify sees
// on that directory whichever mount namespace mounted it. A second mount
// of a live tree's upper is one; overlayfs logs "upperdir is in-use" for
// it too, but its log is the machine's: counted there, another process's
// warning (another test's probe) failed this one.
func watchOverlayMounts(t *testing.T, dir, target string) func() int {
	t.Helper()
	r, err := repo.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	w, err := worktree.ForPath(r, target)
	if err != nil {
		t.Fatal(err)
	}
	workdir := filepath.Join(w.Dir, "work")
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		t.Fatalf("inotify: %v", err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if _, err := unix.InotifyAddWatch(fd, workdir, unix.IN_CREATE); err != nil {
		t.Fatalf("inotify %s: %v", workdir, err)
	}
	n := 0
	buf := make([]byte, 64*1024)
	return func() int {
		for {
			k, err := unix.Read(fd, buf)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err != nil || k <= 0 { // EAGAIN: nothing more for now
				return n
			}
			for off := 0; off+unix.SizeofInotifyEvent <= k; {
				ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
				name := buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(ev.Len)]
				if ev.Mask&unix.IN_ISDIR != 0 && string(bytes.TrimRight(name, "\x00")) == "work" {
					n++
				}
				off += unix.SizeofInotifyEvent + int(ev.Len)
			}
		}
	}
}
