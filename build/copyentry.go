package build

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"syscall"

	"github.com/zeebo/blake3"
	"golang.org/x/sys/unix"
)

// writeEntry copies one entry and returns a file's content blake3 and
// the digest of the source's xattrs (those of a directory that exists
// too, so that the key is the direct copy's).
func writeEntry(srcDirs, dstDirs *dirRoots, e entry, name string, perm fs.FileMode, uid, gid int) ([]byte, string, error) {
	if name == "." {
		return nil, "", nil // the destination is the root itself: it exists
	}
	if !e.fi.Mode().IsRegular() {
		xsum, err := writeOther(srcDirs, dstDirs, e, name, perm, uid, gid)
		return nil, xsum, err
	}
	return writeFile(srcDirs, dstDirs, e, name, perm, uid, gid)
}

// writeOther makes a directory or a symlink (its times come later) and
// returns the digest of a directory's xattrs.
func writeOther(srcDirs, dstDirs *dirRoots, e entry, name string, perm fs.FileMode, uid, gid int) (string, error) {
	dir, base, err := dstDirs.at(name)
	if err != nil {
		return "", err
	}
	old, err := dir.Lstat(base)
	exists := err == nil
	if e.fi.IsDir() && exists && (old.IsDir() || old.Mode()&fs.ModeSymlink != 0 && dstDirs.isDir(name)) {
		// An existing directory keeps its owner, mode, times and xattrs;
		// a symlink to one is followed (/bin -> usr/bin), as buildah
		// does. The key has the source's xattrs all the same, as the
		// direct copy's has.
		return copyDirXattrs(srcDirs, e.src, nil, "")
	}
	if e.fi.IsDir() && exists {
		return "", fmt.Errorf("already exists but is not a directory")
	}
	if exists && e.top && (old.IsDir() || old.Mode()&fs.ModeSymlink != 0 && dstDirs.isDir(name)) {
		// A named FIFO or device node copied onto an existing directory
		// lands in it, as a named file does (writeFile).
		name += "/" + path.Base(e.src)
		if dir, base, err = dstDirs.at(name); err != nil {
			return "", err
		}
		old, err = dir.Lstat(base)
		if exists = err == nil; exists && old.IsDir() {
			return "", errors.New("a directory is in the way")
		}
	}
	if exists {
		dstDirs.forget(name)
		if err := dir.RemoveAll(base); err != nil {
			return "", err
		}
	}
	if e.fi.Mode()&(fs.ModeNamedPipe|fs.ModeDevice) != 0 {
		return "", mknodEntry(dir, base, e.fi, perm, uid, gid)
	}
	if !e.fi.IsDir() {
		if err := dir.Symlink(e.link, base); err != nil {
			return "", err
		}
		return "", dir.Lchown(base, uid, gid)
	}
	if err := dir.Mkdir(base, 0o700); err != nil {
		return "", err
	}
	if err := dir.Chown(base, uid, gid); err != nil {
		return "", err
	}
	if err := dir.Chmod(base, perm); err != nil {
		return "", err
	}
	return copyDirXattrs(srcDirs, e.src, dir, base)
}

// mknodEntry makes the FIFO or device node base in dir as fi is (its
// device number), owned by uid:gid with perm and fi's mtime.
func mknodEntry(dir *os.Root, base string, fi fs.FileInfo, perm fs.FileMode, uid, gid int) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return errors.New("no device number")
	}
	d, err := dir.Open(".")
	if err != nil {
		return err
	}
	err = unix.Mknodat(int(d.Fd()), base, st.Mode&unix.S_IFMT|0o600, int(st.Rdev))
	d.Close()
	if err == nil {
		err = dir.Lchown(base, uid, gid)
	}
	if err == nil {
		err = dir.Chmod(base, perm) // after chown, which clears setuid bits
	}
	if err == nil {
		err = dir.Chtimes(base, fi.ModTime(), fi.ModTime())
	}
	return err
}

// copyDirXattrs gives the directory base of dir (nil: none, only the
// digest is wanted) the source's xattrs, and returns their digest.
func copyDirXattrs(srcDirs *dirRoots, src string, dir *os.Root, base string) (string, error) {
	sdir, sbase, err := srcDirs.at(src)
	if err != nil {
		return "", err
	}
	in, err := sdir.OpenFile(sbase, os.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return "", err
	}
	defer in.Close()
	if dir == nil {
		return copyXattrs(int(in.Fd()), -1)
	}
	out, err := dir.OpenFile(base, os.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return "", err
	}
	defer out.Close()
	return copyXattrs(int(in.Fd()), int(out.Fd()))
}

// writeFile copies a regular file and returns its content's blake3 and
// its xattrs' digest.
func writeFile(srcDirs, dstDirs *dirRoots, e entry, name string, perm fs.FileMode, uid, gid int) ([]byte, string, error) {
	dir, base, err := dstDirs.at(name)
	if err != nil {
		return nil, "", err
	}
	old, err := dir.Lstat(base)
	exists := err == nil
	if exists && (old.IsDir() || e.top && old.Mode()&fs.ModeSymlink != 0 && dstDirs.isDir(name)) {
		if !e.top {
			return nil, "", errors.New("a directory is in the way")
		}
		// A named file copied onto an existing directory lands in it.
		if dir, base, err = dstDirs.at(name + "/" + path.Base(e.src)); err != nil {
			return nil, "", err
		}
		if old, err = dir.Lstat(base); err == nil && old.IsDir() {
			return nil, "", errors.New("a directory is in the way")
		}
		exists = err == nil
	}
	if exists {
		if err := dir.Remove(base); err != nil {
			return nil, "", err
		}
	}
	sdir, sbase, err := srcDirs.at(e.src)
	if err != nil {
		return nil, "", err
	}
	in, err := openSource(sdir, sbase)
	if err != nil {
		return nil, "", err
	}
	defer in.Close()
	out, err := dir.OpenFile(base, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, "", err
	}
	h := blake3.New()
	_, err = io.Copy(out, io.TeeReader(in, h))
	if err == nil {
		err = out.Chown(uid, gid)
	}
	if err == nil {
		err = out.Chmod(perm) // after chown, which clears setuid bits
	}
	var xsum string
	if err == nil {
		xsum, err = copyXattrs(int(in.Fd()), int(out.Fd())) // after chown too: it clears file capabilities
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, "", err
	}
	return h.Sum(nil), xsum, dir.Chtimes(base, e.fi.ModTime(), e.fi.ModTime())
}

// openSource opens the regular file name of src, never waiting on a
// FIFO that took its place since it was listed (a container's work tree
// can swap one in while the build copies): opened without blocking, it
// is refused.
func openSource(src *os.Root, name string) (*os.File, error) {
	f, err := src.OpenFile(name, os.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, cmp.Or(err, errors.New("not a regular file"))
	}
	return f, nil
}

// linkEntry makes name a hard link to first (written before it), both
// resolved as writeEntry resolves them.
func linkEntry(dstDirs *dirRoots, first, name string) error {
	fdir, fbase, err := dstDirs.at(first)
	if err != nil {
		return err
	}
	dir, base, err := dstDirs.at(name)
	if err != nil {
		return err
	}
	if old, err := dir.Lstat(base); err == nil {
		if old.IsDir() {
			return errors.New("a directory is in the way")
		}
		if err := dir.Remove(base); err != nil {
			return err
		}
	}
	src, err := fdir.OpenFile(fbase, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer src.Close()
	d, err := dir.Open(".")
	if err != nil {
		return err
	}
	defer d.Close()
	return unix.Linkat(int(src.Fd()), "", int(d.Fd()), base, unix.AT_EMPTY_PATH)
}
