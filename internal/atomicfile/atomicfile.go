// Package atomicfile writes files so that readers see the old or the new
// content, never a mix: temp file in the same filesystem, fsync, rename,
// fsync of the directory. The Unsynced writers leave out the two fsyncs:
// a killed process still leaves the old or the new file, but a power cut
// may leave the old one (git's refs and index without core.fsync).
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"github.com/strata-sh/strata/internal/pagewrite"
	"golang.org/x/sys/unix"
)

// syncFile flushes a file or a directory; a test counts the calls.
var syncFile = (*os.File).Sync

// syncFD is unix.Fsync; a test counts the calls.
var syncFD = unix.Fsync

// Write writes data to a temp file in tmpDir, syncs it and renames
// it over name, so that readers see either the old or the new content.
func Write(tmpDir, name string, data []byte, perm os.FileMode) error {
	return write(tmpDir, name, data, perm, true, os.Rename)
}

// WriteUnsynced is Write without its fsyncs.
func WriteUnsynced(tmpDir, name string, data []byte, perm os.FileMode) error {
	return write(tmpDir, name, data, perm, false, os.Rename)
}

// Create is Write for a file that must not be replaced: if name exists,
// it is left alone and the error wraps fs.ErrExist (a hard link, unlike a
// rename, refuses to replace).
func Create(tmpDir, name string, data []byte, perm os.FileMode) error {
	return write(tmpDir, name, data, perm, true, func(tmp, name string) error {
		if err := os.Link(tmp, name); err != nil {
			return err
		}
		return os.Remove(tmp)
	})
}

func write(tmpDir, name string, data []byte, perm os.FileMode, sync bool, place func(tmp, name string) error) error {
	f, err := os.CreateTemp(tmpDir, "."+filepath.Base(name)+"-")
	if err != nil {
		return err
	}
	if err := fill(f, name, data, perm, sync, func() error { return place(f.Name(), name) }, os.Remove); err != nil {
		return err
	}
	if !sync {
		return nil
	}
	return SyncDir(name)
}

// fill writes data to the temp file f, syncs it if sync is set, closes
// it, and has place put it at name; remove takes f's name away if it
// fails.
func fill(f *os.File, name string, data []byte, perm os.FileMode, sync bool, place func() error, remove func(string) error) error {
	ok := false
	defer func() {
		if !ok {
			f.Close()
			remove(f.Name())
		}
	}()
	// In pieces (pagewrite): a layer's file index or a tree's can be
	// several MiB.
	if _, err := pagewrite.To(f, data); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Chmod(perm); err != nil {
		return err
	}
	if sync {
		if err := syncFile(f); err != nil {
			return fmt.Errorf("sync %s: %w", name, err)
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", name, err)
	}
	if err := place(); err != nil {
		return err
	}
	ok = true
	return nil
}

// SyncDir makes a rename of name durable by syncing its directory.
func SyncDir(name string) error {
	d, err := os.Open(filepath.Dir(name))
	if err != nil {
		return err
	}
	defer d.Close()
	return syncFile(d)
}

// Dir is a directory opened by a descriptor (not O_PATH: it is synced),
// and the path messages name it by.
type Dir struct {
	FD   int
	Name string
}

// Path is name in d, as messages name it.
func (d Dir) Path(name string) string { return filepath.Join(d.Name, name) }

// CreateTemp is os.CreateTemp in d: the new file's name is prefix and a
// random suffix, made there with no symbolic link followed. Its Name is
// d.Path of that name; Remove takes it away.
func (d Dir) CreateTemp(prefix string) (*os.File, error) {
	for try := 0; ; try++ {
		base := prefix + strconv.FormatUint(uint64(rand.Uint32()), 10)
		fd, err := unix.Openat(d.FD, base, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if errors.Is(err, unix.EEXIST) && try < 10000 {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "createtemp", Path: d.Path(prefix + "*"), Err: err}
		}
		return os.NewFile(uintptr(fd), d.Path(base)), nil
	}
}

// Remove removes the entry of d that the path p (d.Path of it) names,
// not following a link.
func (d Dir) Remove(p string) error {
	if err := unix.Unlinkat(d.FD, filepath.Base(p), 0); err != nil {
		return &fs.PathError{Op: "remove", Path: p, Err: err}
	}
	return nil
}

// Rename moves the entry of d that the path p (d.Path of it) names to
// name in to, replacing what is there (a symbolic link is replaced, not
// followed).
func (d Dir) Rename(p string, to Dir, name string) error {
	if err := unix.Renameat(d.FD, filepath.Base(p), to.FD, name); err != nil {
		return &os.LinkError{Op: "rename", Old: p, New: to.Path(name), Err: err}
	}
	return nil
}

// Sync makes a rename in d durable.
func (d Dir) Sync() error {
	if err := syncFD(d.FD); err != nil {
		return &fs.PathError{Op: "sync", Path: d.Name, Err: err}
	}
	return nil
}

// WriteAt is Write of name in dir, staged in tmp: every name is taken in
// its directory's descriptor, and a symbolic link at name is replaced,
// never followed.
func WriteAt(tmp, dir Dir, name string, data []byte, perm os.FileMode) error {
	return writeAt(tmp, dir, name, data, perm, true, func(p string) error { return tmp.Rename(p, dir, name) })
}

// WriteAtUnsynced is WriteAt without its fsyncs.
func WriteAtUnsynced(tmp, dir Dir, name string, data []byte, perm os.FileMode) error {
	return writeAt(tmp, dir, name, data, perm, false, func(p string) error { return tmp.Rename(p, dir, name) })
}

// CreateAt is Create of name in dir, as WriteAt: a name there, a symbolic
// link included, is left alone and the error wraps fs.ErrExist.
func CreateAt(tmp, dir Dir, name string, data []byte, perm os.FileMode) error {
	return writeAt(tmp, dir, name, data, perm, true, func(p string) error {
		if err := unix.Linkat(tmp.FD, filepath.Base(p), dir.FD, name, 0); err != nil {
			return &os.LinkError{Op: "link", Old: p, New: dir.Path(name), Err: err}
		}
		return tmp.Remove(p)
	})
}

func writeAt(tmp, dir Dir, name string, data []byte, perm os.FileMode, sync bool, place func(tmp string) error) error {
	f, err := tmp.CreateTemp("." + name + "-")
	if err != nil {
		return err
	}
	if err := fill(f, dir.Path(name), data, perm, sync, func() error { return place(f.Name()) }, tmp.Remove); err != nil {
		return err
	}
	if !sync {
		return nil
	}
	return dir.Sync()
}
