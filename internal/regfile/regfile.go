// Package regfile reads the small files of a repository (config, refs,
// HEAD, reflogs) refusing what is not a regular file, without opening
// it: a repository handed over as a tar may hold a FIFO there, whose
// open would wait for a writer forever, out of reach of Ctrl-C, or a
// device that never ends, or whose very open acts (a watchdog's).
package regfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"strconv"
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
//
// What is there is looked at before it is opened (an O_PATH descriptor,
// which opens nothing): opening a device node acts on the device (a
// watchdog's arms a host reboot, a tape's rewinds), and a FIFO's lets a
// writer waiting on it go on. Only a regular file is then opened, the
// very one looked at (through /proc/self/fd). A file that does not
// exist is created with O_EXCL, which opens nothing that is already
// there: what was made in between (a FIFO or a device planted, a file
// another writer made) is then looked at as above, and a symbolic link,
// even a dangling one, is not followed to make its target.
func OpenFile(path string, flag int, perm fs.FileMode) (*os.File, error) {
	f, err := openExisting(path, flag, perm)
	if flag&os.O_CREATE == 0 || !errors.Is(err, fs.ErrNotExist) {
		return f, err
	}
	if beforeCreate != nil {
		beforeCreate(path)
	}
	f, err = create(path, flag, perm)
	if flag&os.O_EXCL != 0 || !errors.Is(err, fs.ErrExist) {
		return f, err
	}
	return openExisting(path, flag&^os.O_CREATE, perm)
}

// beforeCreate, when set (by tests), runs between OpenFile's finding no
// file and its creating one: the moment another process could plant one.
var beforeCreate func(path string)

// create makes path, a new regular file, and opens it with flag.
func create(path string, flag int, perm fs.FileMode) (*os.File, error) {
	return os.OpenFile(path, flag|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, perm)
}

// openExisting opens the regular file path names, looked at before it is
// opened; ENOENT when there is none.
func openExisting(path string, flag int, perm fs.FileMode) (*os.File, error) {
	pfd, err := unix.Open(path, unix.O_PATH|unix.O_CLOEXEC|flag&unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(pfd)
	var st unix.Stat_t
	if err := unix.Fstat(pfd, &st); err != nil {
		return nil, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	if err := regular(path, st.Mode); err != nil {
		return nil, err
	}
	if flag&(os.O_CREATE|os.O_EXCL) == os.O_CREATE|os.O_EXCL {
		return nil, &fs.PathError{Op: "open", Path: path, Err: syscall.EEXIST}
	}
	reflag := flag &^ (os.O_CREATE | os.O_EXCL | unix.O_NOFOLLOW)
	fd, err := unix.Open("/proc/self/fd/"+strconv.Itoa(pfd), reflag|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		return openChecked(path, flag, perm) // no /proc: as before, checked after
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// openChecked opens path and then refuses what is not a regular file.
func openChecked(path string, flag int, perm fs.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, flag|unix.O_NONBLOCK, perm)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil {
		err = regular(path, uint32(fi.Sys().(*syscall.Stat_t).Mode))
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// regular is nil for a regular file's mode, else open's error for it:
// EISDIR for a directory (as os.ReadFile says), ELOOP for a symbolic
// link (only opened with O_NOFOLLOW, as open(2) says), ErrNotRegular.
func regular(path string, mode uint32) error {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
		return nil
	case unix.S_IFDIR:
		return &fs.PathError{Op: "read", Path: path, Err: syscall.EISDIR}
	case unix.S_IFLNK:
		return &fs.PathError{Op: "open", Path: path, Err: syscall.ELOOP}
	}
	return &fs.PathError{Op: "open", Path: path, Err: ErrNotRegular}
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
