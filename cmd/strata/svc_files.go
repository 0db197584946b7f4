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
// ended, supervisor.pid, wait.lock) goes to the directory's own files,
// never where a link there leads: stop truncated the file a planted
// "stop" link named.

// writeRunFile writes data to the run's file name, created if need be
// with perm: never through a symbolic link (ELOOP), and never into
// what is not a regular file.
func (s *svc) writeRunFile(name string, data []byte, perm fs.FileMode) error {
	f, err := os.OpenFile(s.path(name), os.O_WRONLY|os.O_CREATE|os.O_TRUNC|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, perm)
	if err != nil {
		return err
	}
	if err := checkRegular(f); err != nil {
		f.Close()
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// checkRegular fails unless f is a regular file.
func checkRegular(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return &fs.PathError{Op: "open", Path: f.Name(), Err: regfile.ErrNotRegular}
	}
	return nil
}
