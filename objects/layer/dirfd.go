package layer

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Dir is an open directory of a tree that someone else may be changing
// (a container writing into a work tree). Everything below it is reached
// through file descriptors, one name at a time, never following a
// symlink: a directory swapped for a symlink mid-walk cannot lead the
// host out of the tree.
type Dir struct {
	fd   int
	path string // for messages only; never opened again
	// noDev: d is on a private nodev mount (OpenDirForRead), so a file
	// below it can be opened directly (openDirect).
	noDev bool
}

// Errors callers may branch on.
var (
	ErrNotRegular = errors.New("not a regular file")
	ErrTooLarge   = errors.New("file too large")
)

// OpenDir opens the directory at path, which the caller trusts (the upper
// or a mount point that strata made).
func OpenDir(path string) (*Dir, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return &Dir{fd: fd, path: path}, nil
}

// DirOf is the directory f refers to as a Dir of its own (f stays open):
// for a directory found another way, such as through an os.Root. Its
// messages name it name: f's own may be a descriptor's /proc path.
func DirOf(f *os.File, name string) (*Dir, error) {
	sc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	fd := -1
	cerr := sc.Control(func(raw uintptr) {
		fd, err = unix.FcntlInt(raw, unix.F_DUPFD_CLOEXEC, 0)
	})
	if cerr != nil {
		return nil, cerr
	}
	if err != nil {
		return nil, &os.PathError{Op: "dup", Path: name, Err: err}
	}
	return &Dir{fd: fd, path: name}, nil
}

// Close releases the directory.
func (d *Dir) Close() error {
	if d == nil || d.fd < 0 {
		return nil
	}
	err := unix.Close(d.fd)
	d.fd = -1
	return err
}

// Path is the directory's path, for messages.
func (d *Dir) Path() string { return d.path }

func (d *Dir) join(name string) string { return d.path + "/" + name }

// Names lists the directory, sorted bytewise.
func (d *Dir) Names() ([]string, error) {
	names, err := listNames(d.fd)
	if err != nil {
		return nil, fmt.Errorf("read directory %s: %w", d.path, err)
	}
	slices.Sort(names)
	return names, nil
}

// Lstat describes name without following it.
func (d *Dir) Lstat(name string) (unix.Stat_t, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return st, &os.PathError{Op: "lstat", Path: d.join(name), Err: err}
	}
	return st, nil
}

// Sub opens the directory name. A symlink, or anything that is not the
// directory st describes (it was swapped meanwhile), is ErrFileChanged.
func (d *Dir) Sub(name string, st *unix.Stat_t) (*Dir, error) {
	fd, err := unix.Openat(d.fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
		return nil, fmt.Errorf("%s: %w", d.join(name), ErrFileChanged)
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: d.join(name), Err: err}
	}
	sub := &Dir{fd: fd, path: d.join(name), noDev: d.noDev}
	if st != nil {
		var now unix.Stat_t
		if err := unix.Fstat(fd, &now); err != nil || now.Dev != st.Dev || now.Ino != st.Ino {
			sub.Close()
			return nil, fmt.Errorf("%s: %w", sub.path, ErrFileChanged)
		}
	}
	return sub, nil
}

// OpenBeneath opens the directory rel ("a/b") below d; no component may
// be a symlink or leave d.
func (d *Dir) OpenBeneath(rel string) (*Dir, error) {
	how := unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	}
	if rel == "" {
		rel = "." // the directory itself: path.Dir of a top-level name, trimmed
	}
	for range 16 {
		fd, err := unix.Openat2(d.fd, rel, &how)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: d.join(rel), Err: err}
		}
		return &Dir{fd: fd, path: d.join(rel), noDev: d.noDev}, nil
	}
	return nil, &os.PathError{Op: "open", Path: d.join(rel), Err: unix.EAGAIN}
}

// OpenFile opens the regular file name for reading. It never follows a
// symlink, never blocks on a FIFO and never opens a device: the entry is
// pinned with O_PATH and reopened only once it is known to be a regular
// file. If st is given, the file must still be the one it describes.
func (d *Dir) OpenFile(name string, st *unix.Stat_t) (*os.File, unix.Stat_t, error) {
	fd, now, err := d.openRead(name, st)
	if err != nil {
		return nil, now, err
	}
	return os.NewFile(uintptr(fd), d.join(name)), now, nil
}

// openRead is OpenFile's raw fd, for the layer writer's loop over every
// file: an os.File costs an fcntl and a failed epoll_ctl each.
func (d *Dir) openRead(name string, st *unix.Stat_t) (int, unix.Stat_t, error) {
	if d.noDev {
		if fd, now, ok, err := d.openDirect(name, st); ok {
			return fd, now, err
		}
	}
	var now unix.Stat_t
	pfd, err := unix.Openat(d.fd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, now, &os.PathError{Op: "open", Path: d.join(name), Err: err}
	}
	defer unix.Close(pfd)
	if err := unix.Fstat(pfd, &now); err != nil {
		return -1, now, &os.PathError{Op: "stat", Path: d.join(name), Err: err}
	}
	if st != nil && (now.Dev != st.Dev || now.Ino != st.Ino) {
		return -1, now, fmt.Errorf("%s: %w", d.join(name), ErrFileChanged)
	}
	if now.Mode&unix.S_IFMT != unix.S_IFREG {
		return -1, now, fmt.Errorf("%s: %w (%s)", d.join(name), ErrNotRegular, typeWord(now.Mode))
	}
	// O_NOATIME: reading a tree into a layer leaves its access times
	// alone, as tar --atime-preserve=system does. Under relatime, a file
	// written since it was last read (every new file of a commit) would
	// otherwise have its inode dirtied and journaled by the read. Only the
	// owner (or CAP_FOWNER) may ask: anyone else reads as before.
	fd, err := reopen(pfd, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOATIME)
	if errors.Is(err, unix.EPERM) {
		fd, err = reopen(pfd, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC)
	}
	if err != nil {
		return -1, now, &os.PathError{Op: "open", Path: d.join(name), Err: err}
	}
	return fd, now, nil
}

// procFD is /proc/self/fd, opened once: reopening an O_PATH fd through it
// resolves one name, where "/proc/self/fd/N" resolves four and a symlink
// for every file written to a layer.
var procFD = sync.OnceValue(func() int {
	fd, err := unix.Open("/proc/self/fd", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	return fd
})

// reopen opens the file that the O_PATH fd pfd pins, with flags.
func reopen(pfd, flags int) (int, error) {
	if dir := procFD(); dir >= 0 {
		return unix.Openat(dir, strconv.Itoa(pfd), flags, 0)
	}
	return unix.Open("/proc/self/fd/"+strconv.Itoa(pfd), flags, 0)
}

// ReadSmallFile reads the regular file name, refusing one over max bytes.
func (d *Dir) ReadSmallFile(name string, max int64) ([]byte, error) {
	f, st, err := d.OpenFile(name, nil)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st.Size > max {
		return nil, fmt.Errorf("%s: %w (%d bytes, at most %d)", f.Name(), ErrTooLarge, st.Size, max)
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: %w (over %d bytes)", f.Name(), ErrTooLarge, max)
	}
	return b, nil
}

// Readlink reads the symlink name.
func (d *Dir) Readlink(name string) (string, error) {
	buf := make([]byte, 256)
	for {
		n, err := unix.Readlinkat(d.fd, name, buf)
		if errors.Is(err, unix.EINVAL) {
			return "", fmt.Errorf("%s: %w", d.join(name), ErrFileChanged) // no longer a symlink
		}
		if err != nil {
			return "", &os.PathError{Op: "readlink", Path: d.join(name), Err: err}
		}
		if n < len(buf) {
			return string(buf[:n]), nil
		}
		buf = make([]byte, len(buf)*4)
	}
}

// Xattrs returns name's extended attributes as stored, sorted by name.
// The magic link pins the parent directory; name itself is not followed.
func (d *Dir) Xattrs(name string, buf []byte) ([]xattr, error) {
	if !noXattrat.Load() {
		// listxattrat (Linux 6.13) saves the magic link's lookup for the
		// common entry that has no xattrs.
		n, err := listxattrat(d.fd, name, buf)
		if errors.Is(err, unix.ENOSYS) {
			noXattrat.Store(true)
		} else if err == nil && n == 0 {
			return nil, nil
		} else if errors.Is(err, unix.ENOTSUP) {
			return nil, nil
		}
	}
	xs, err := lxattrs("/proc/self/fd/"+strconv.Itoa(d.fd)+"/"+name, buf)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d.join(name), err)
	}
	return xs, nil
}

var noXattrat atomic.Bool

func listxattrat(dfd int, name string, buf []byte) (int, error) {
	p, err := unix.BytePtrFromString(name)
	if err != nil {
		return 0, err
	}
	var b unsafe.Pointer
	if len(buf) > 0 {
		b = unsafe.Pointer(&buf[0])
	}
	n, _, errno := unix.Syscall6(unix.SYS_LISTXATTRAT, uintptr(dfd), uintptr(unsafe.Pointer(p)),
		unix.AT_SYMLINK_NOFOLLOW, uintptr(b), uintptr(len(buf)), 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

func typeWord(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return "directory"
	case unix.S_IFLNK:
		return "symlink"
	case unix.S_IFIFO:
		return "fifo"
	case unix.S_IFCHR:
		return "character device"
	case unix.S_IFBLK:
		return "block device"
	case unix.S_IFSOCK:
		return "socket"
	}
	return "regular file"
}

// RenameTo moves name from d into to under the same name, never replacing
// what is there; neither directory is looked up again by path.
func (d *Dir) RenameTo(name string, to *Dir) error {
	if err := unix.Renameat2(d.fd, name, to.fd, name, unix.RENAME_NOREPLACE); err != nil {
		return &os.LinkError{Op: "rename", Old: d.join(name), New: to.join(name), Err: err}
	}
	return nil
}

// MkdirLike makes the directory name with st's owner and mode (or opens
// it, if it exists) and returns it open.
func (d *Dir) MkdirLike(name string, st *unix.Stat_t) (*Dir, error) {
	if err := unix.Mkdirat(d.fd, name, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
		return nil, &os.PathError{Op: "mkdir", Path: d.join(name), Err: err}
	}
	sub, err := d.Sub(name, nil)
	if err != nil {
		return nil, err
	}
	if err := unix.Fchown(sub.fd, int(st.Uid), int(st.Gid)); err != nil {
		sub.Close()
		return nil, &os.PathError{Op: "chown", Path: sub.path, Err: err}
	}
	if err := unix.Fchmod(sub.fd, st.Mode&0o7777); err != nil {
		sub.Close()
		return nil, &os.PathError{Op: "chmod", Path: sub.path, Err: err}
	}
	return sub, nil
}

// SetOwnerMode gives d the owner and the permission bits (07777) given;
// the owner first, since a chown clears setuid and setgid.
func (d *Dir) SetOwnerMode(uid, gid int, mode uint32) error {
	if err := unix.Fchown(d.fd, uid, gid); err != nil {
		return &os.PathError{Op: "chown", Path: d.path, Err: err}
	}
	if err := unix.Fchmod(d.fd, mode&0o7777); err != nil {
		return &os.PathError{Op: "chmod", Path: d.path, Err: err}
	}
	return nil
}

// Mknod makes a whiteout-style node name (mode, dev) in d. d keeps its
// times: a whiteout staged into a copy of the tree must not give its
// directory the time of the copy, which a layer would then record.
func (d *Dir) Mknod(name string, mode uint32, dev int) error {
	var st unix.Stat_t
	if err := unix.Fstat(d.fd, &st); err != nil {
		return &os.PathError{Op: "stat", Path: d.path, Err: err}
	}
	if err := unix.Mknodat(d.fd, name, mode, dev); err != nil {
		return &os.PathError{Op: "mknod", Path: d.join(name), Err: err}
	}
	if err := futimens(d.fd, []unix.Timespec{st.Atim, st.Mtim}); err != nil {
		return &os.PathError{Op: "utimens", Path: d.path, Err: err}
	}
	return nil
}
