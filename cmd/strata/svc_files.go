package main

import (
	"io/fs"
	"os"

	"golang.org/x/sys/unix"

	"github.com/strata-sh/strata/internal/regfile"
)

// A run's directory comes with the repository, which may be handed
// over with any of its files planted as a symbolic link to a host file
// or as a FIFO. What strata writes there (the marks stop, restart and
// ended, supervisor.pid, wait.lock) and the lock it asks the kernel
// about are the directory's own files, never what a link there leads
// to: stop truncated the file a planted "stop" link named, and a "lock"
// link to a file another process holds locked made that process the
// run's supervisor, and its child the container that stop and kill
// signal and exec joins.

// writeRunFile writes data to the run's file name, created if need be
// with perm: never through a symbolic link (ELOOP), never into what is
// not a regular file, and never into a file that has another name too
// (a hard link to the repository's config: stop emptied it), which
// loses this name to a new file (regfile.OpenOwn).
func (s *svc) writeRunFile(name string, data []byte, perm fs.FileMode) error {
	f, err := regfile.OpenOwn(s.path(name), os.O_WRONLY|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// openRunLock opens the run's lock, which its supervisor holds, with
// flags (os.O_RDONLY for a look, os.O_CREATE|os.O_RDWR for the
// supervisor): never through a symbolic link, and only a regular file.
func (s *svc) openRunLock(flags int) (*os.File, error) {
	return regfile.OpenFile(s.path("lock"), flags|unix.O_NOFOLLOW, 0o600)
}
