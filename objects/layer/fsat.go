package layer

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// maxCachedDirs bounds the open directory fds kept between entries.
const maxCachedDirs = 1024

// dirFD returns an fd of the directory rel, resolved inside the root: a
// symlink on the way, even absolute or full of "..", cannot leave it. With
// create, missing directories are made (mode 0755, as tar does), and so
// are those in place of a whiteout this layer made (".wh.d", then "d/f"
// with no "d/" entry): opaque, as an entry "d/" would make it.
func (u *unpacker) dirFD(rel string, create bool) (int, error) {
	if fd, ok := u.cachedDir(rel); ok {
		return fd, nil
	}
	fd, err := u.openInRoot(rel)
	if create && (errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) && len(u.whited.m) > 0) {
		dir, base := split(rel)
		pfd, perr := u.dirFD(dir, true)
		if perr != nil {
			return -1, perr
		}
		whited := len(u.whited.m) > 0 && u.whited.has(rel)
		if whited {
			if err := unix.Unlinkat(pfd, base, 0); err != nil {
				return -1, fmt.Errorf("replace whiteout %s: %w", rel, err)
			}
			u.whited.remove(rel)
		}
		if err := unix.Mkdirat(pfd, base, 0o755); err == nil {
			u.created.add(rel) // this layer's: its whiteouts spare it
		} else if !errors.Is(err, unix.EEXIST) {
			return -1, fmt.Errorf("mkdir %s: %w", rel, err)
		}
		u.fresh = false // a layer that leaves out its directories: the pool creates no files
		fd, err = u.openInRoot(rel)
		if err == nil && whited {
			if err := unix.Fsetxattr(fd, "trusted.overlay.opaque", []byte("y"), 0); err != nil {
				unix.Close(fd)
				return -1, fmt.Errorf("mark opaque %s: %w", rel, err)
			}
		}
	}
	if err != nil {
		return -1, fmt.Errorf("open directory %s: %w", rel, err)
	}
	u.cache(rel, fd)
	return fd, nil
}

// cachedDir is dirFD(rel) when it is known without resolving a path.
func (u *unpacker) cachedDir(rel string) (int, bool) {
	if rel == "" || rel == "." {
		return u.root, true
	}
	fd, ok := u.dirs[rel]
	return fd, ok
}

func (u *unpacker) openInRoot(rel string) (int, error) {
	how := unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	}
	for range 16 {
		fd, err := unix.Openat2(u.root, rel, &how)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			continue // a concurrent rename: the kernel asks to retry
		}
		return fd, err
	}
	return -1, unix.EAGAIN
}

func (u *unpacker) cache(rel string, fd int) {
	if old, ok := u.dirs[rel]; ok {
		u.stale = append(u.stale, old)
	}
	if len(u.dirs) >= maxCachedDirs {
		u.dropCache()
	}
	u.forget(fd)
	u.dirs[rel] = fd
}

// dropCache forgets every resolved directory: after a directory or a
// symlink is removed, a cached path may no longer lead where it did. The
// fds stay open until the current entry is done, as callers hold them.
func (u *unpacker) dropCache() {
	for rel, fd := range u.dirs {
		u.stale = append(u.stale, fd)
		delete(u.dirs, rel)
	}
}

func (u *unpacker) closeStale() {
	if len(u.stale) == 0 {
		return
	}
	// Queued files may be created in these. An error is the pool's, and
	// is reported by the unpack loop.
	_ = u.barrier()
	for _, fd := range u.stale {
		u.forget(fd)
		unix.Close(fd)
	}
	u.stale = u.stale[:0]
}

func (u *unpacker) close() {
	u.dropCache()
	u.closeStale()
	unix.Close(u.root)
}

// clear removes whatever is at base in pfd, so that a new entry can take
// its place; a directory goes with its content.
func (u *unpacker) clear(pfd int, rel, base string) error {
	mine := u.created.has(rel)
	removed, err := u.removeAll(pfd, base)
	if err != nil {
		return fmt.Errorf("replace %s: %w", rel, err)
	}
	if removed {
		u.created.remove(rel)
		if mine {
			// What this layer made there, a directory perhaps, is
			// gone: its times are not to be set on what replaces it.
			u.redone = true
			u.dirTimes = append(u.dirTimes, dirTime{rel: rel})
		}
	}
	return nil
}

// removeAll deletes name in the directory pfd without following symlinks.
func (u *unpacker) removeAll(pfd int, name string) (bool, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(pfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); errors.Is(err, unix.ENOENT) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		u.dropCache()
		fd, err := unix.Openat(pfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return false, err
		}
		defer unix.Close(fd)
		names, err := listNames(fd)
		if err != nil {
			return false, err
		}
		for _, n := range names {
			if _, err := u.removeAll(fd, n); err != nil {
				return false, err
			}
		}
		return true, unix.Unlinkat(pfd, name, unix.AT_REMOVEDIR)
	case unix.S_IFLNK:
		u.dropCache()
	}
	return true, unix.Unlinkat(pfd, name, 0)
}

// isEmptyDir says whether the directory open as fd has no entries.
func isEmptyDir(fd int) (bool, error) {
	names, err := listNames(fd)
	return len(names) == 0, err
}

// direntBufs are getdents buffers, reused: a walk lists every directory.
var direntBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// listNames lists the directory open as fd from its start (fd's offset is
// the only state it changes). Straight through fd: reopening "." as an
// os.File cost four more system calls a directory, in walks of trees
// with thousands of them.
func listNames(fd int) ([]string, error) {
	if _, err := unix.Seek(fd, 0, io.SeekStart); err != nil {
		return nil, err
	}
	bp := direntBufs.Get().(*[]byte)
	defer direntBufs.Put(bp)
	var names []string
	for {
		n, err := unix.Getdents(fd, *bp)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n <= 0 {
			return names, nil
		}
		_, _, names = unix.ParseDirent((*bp)[:n], -1, names)
	}
}

func validName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.Contains(name, "/")
}

// whiteout handles ".wh.NAME" in dir: NAME from the layers below goes.
// What this layer gives at NAME or below it, before the whiteout or
// after, stays: a whiteout is for the layers below (OCI), as in the
// file maps (tree.Apply).
func (u *unpacker) whiteout(dir, name string) error {
	if !validName(name) {
		return fmt.Errorf("whiteout of %q: %w", name, ErrUnsafePath)
	}
	rel := path.Join(dir, name)
	if u.created.has(rel) || u.holds.has(rel) {
		return u.hideLower(dir, name)
	}
	pfd, err := u.dirFD(dir, u.mode == ToOverlayLower)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
		return nil // nothing below to delete
	}
	if err != nil {
		return err
	}
	if u.mode == Apply {
		_, err := u.removeAll(pfd, name)
		return err
	}
	if err := u.clear(pfd, rel, name); err != nil {
		return err
	}
	if err := unix.Mknodat(pfd, name, unix.S_IFCHR, 0); err != nil {
		return fmt.Errorf("whiteout: %w", err)
	}
	u.whited.add(rel)
	return nil
}

// opaque handles ".wh..wh..opq" in dir: dir hides the layers below.
func (u *unpacker) opaque(dir string) error {
	fd, err := u.dirFD(dir, true)
	if err != nil {
		return err
	}
	return u.opaqueFD(fd, dir)
}

// opaqueFD makes the directory fd, at rel, hide what the layers below
// hold in it: marked opaque, or in a tree being flattened, emptied of
// it at every depth, keeping what this layer gave.
func (u *unpacker) opaqueFD(fd int, rel string) error {
	if u.mode == ToOverlayLower {
		if err := unix.Fsetxattr(fd, "trusted.overlay.opaque", []byte("y"), 0); err != nil {
			return fmt.Errorf("mark opaque: %w", err)
		}
		return nil
	}
	if err := u.removeLower(fd, rel); err != nil {
		return fmt.Errorf("clear opaque directory: %w", err)
	}
	return nil
}

// hideLower is a whiteout of name in dir, which this layer gave or
// holds entries below: a directory there hides what the layers below
// hold in it; a file replaced theirs already.
func (u *unpacker) hideLower(dir, name string) error {
	pfd, err := u.dirFD(dir, false)
	if err != nil {
		return err
	}
	fd, err := unix.Openat(pfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open directory %s: %w", path.Join(dir, name), err)
	}
	defer unix.Close(fd)
	return u.opaqueFD(fd, path.Join(dir, name))
}

// removeLower deletes from the directory fd, at rel, what the layers
// below put there, at any depth: all but what this layer gave and the
// directories that hold it.
func (u *unpacker) removeLower(fd int, rel string) error {
	names, err := listNames(fd)
	if err != nil {
		return err
	}
	for _, n := range names {
		p := path.Join(rel, n)
		if !u.created.has(p) && !u.holds.has(p) {
			if _, err := u.removeAll(fd, n); err != nil {
				return err
			}
			continue
		}
		sub, err := unix.Openat(fd, n, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP) {
			continue // a file or symlink of this layer
		}
		if err != nil {
			return err
		}
		err = u.removeLower(sub, p)
		unix.Close(sub)
		if err != nil {
			return err
		}
	}
	return nil
}

// hold records that dir and the directories above it hold an entry of
// this layer, which a whiteout of one of them spares. Only a tree being
// flattened needs it: in a snapshot of its own, every directory is the
// layer's, in created.
func (u *unpacker) hold(dir string) {
	for dir != "" && dir != "." && u.holds.addNew(dir) {
		dir, _ = split(dir)
	}
}

// futimens sets the times of the open fd: utimensat with a NULL path,
// which, unlike an empty path with AT_EMPTY_PATH, looks no name up.
func futimens(fd int, ts []unix.Timespec) error {
	_, _, errno := unix.Syscall6(unix.SYS_UTIMENSAT, uintptr(fd), 0, uintptr(unsafe.Pointer(&ts[0])), 0, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// nodeType is the file type mknod(2) makes for a device or FIFO entry.
func nodeType(typ byte) uint32 {
	switch typ {
	case tar.TypeChar:
		return unix.S_IFCHR
	case tar.TypeBlock:
		return unix.S_IFBLK
	}
	return unix.S_IFIFO
}

// nodeDev is the device number mknod(2) gets for hdr.
func nodeDev(hdr *tar.Header) uint64 {
	return unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))
}
