package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"

	"github.com/strata-sh/strata/internal/treepath"
	"golang.org/x/sys/unix"
)

// readRegular reads path, at most max bytes, if it is a regular file:
// opened non-blocking, a FIFO is refused rather than waited on, and a
// device is never read. For anything else it reads nothing and returns
// the file's mode, for the caller to name in its own words. A path in a
// work tree is read where its links lead in the tree (treepath.Path), with no
// link let in after: a container's msg -> /etc/shadow is not the host's.
func readRegular(path string, max int64) ([]byte, fs.FileMode, error) {
	real, inTree, err := treepath.Path(path, true)
	if err != nil {
		return nil, 0, err
	}
	if inTree {
		b, mode, err := readRegularNoLinks(real, max)
		if errors.Is(err, unix.ELOOP) {
			return nil, 0, errLinkPut(path)
		}
		return b, mode, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, 0, err
	}
	return readOpenRegular(f, max)
}

// readRegularNoLinks is readRegular of an absolute path with no symbolic
// link on the way (one there fails with ELOOP).
func readRegularNoLinks(path string, max int64) ([]byte, fs.FileMode, error) {
	fd, err := unix.Openat2(unix.AT_FDCWD, path, &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_NONBLOCK | unix.O_NOCTTY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		return nil, 0, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return readOpenRegular(os.NewFile(uintptr(fd), path), max)
}

// readOpenRegular is readRegular of an open file, which it closes.
func readOpenRegular(f *os.File, max int64) ([]byte, fs.FileMode, error) {
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fi.Mode(), nil
	}
	if fi.Size() > max {
		return nil, fi.Mode(), &tooLargeError{max}
	}
	b, err := io.ReadAll(io.LimitReader(f, max))
	return b, fi.Mode(), err
}

// tooLargeError: a file over readRegular's limit.
type tooLargeError struct{ max int64 }

func (e *tooLargeError) Error() string { return fmt.Sprintf("larger than %d bytes", e.max) }
