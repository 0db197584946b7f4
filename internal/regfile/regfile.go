// Package regfile reads the small files of a repository (config, refs,
// HEAD, reflogs) refusing what is not a regular file: a repository handed
// over as a tar may hold a FIFO there, whose open would wait for a writer
// forever, out of reach of Ctrl-C, or a device that never ends.
package regfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// ErrNotRegular is a file that is a FIFO, a device, a socket or a
// directory where a regular file should be.
var ErrNotRegular = errors.New("not a regular file")

// Open opens path for reading without waiting on a FIFO, and refuses
// anything but a regular file (following symbolic links, as os.Open).
func Open(path string) (*os.File, error) {
	return OpenFile(path, os.O_RDONLY, 0)
}

// OpenNoFollow is Open of a file whose last name is no symbolic link
// (one fails with ELOOP).
func OpenNoFollow(path string) (*os.File, error) {
	return OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW, 0)
}

// OpenFile is os.OpenFile (flag and perm as there) with Open's refusals:
// it never waits on a FIFO and refuses anything but a regular file. A
// writer of a file in a directory a repository brings (a run's marks
// and lock) adds unix.O_NOFOLLOW, so that a link planted there is not
// followed.
func OpenFile(path string, flag int, perm fs.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, flag|unix.O_NONBLOCK, perm)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	switch {
	case err != nil:
	case fi.IsDir():
		err = &fs.PathError{Op: "read", Path: path, Err: syscall.EISDIR} // as os.ReadFile says
	case !fi.Mode().IsRegular():
		err = &fs.PathError{Op: "open", Path: path, Err: ErrNotRegular}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// ReadFile is os.ReadFile of a regular file (Open).
func ReadFile(path string) ([]byte, error) {
	return readFile(path, 0)
}

// ReadFileNoFollow is ReadFile of a file whose last name is no symbolic
// link (one fails with ELOOP).
func ReadFileNoFollow(path string) ([]byte, error) {
	return readFile(path, unix.O_NOFOLLOW)
}

func readFile(path string, flags int) ([]byte, error) {
	f, err := OpenFile(path, os.O_RDONLY|flags, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}
