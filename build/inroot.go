package build

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Paths of the image resolve as if its root were "/", as they do for
// the container and for docker and buildah: a symlink of the image
// (/bin -> usr/bin, /var/run -> /run, /etc/localtime -> /usr/share/...)
// is followed, an absolute one from the image's root, and ".." stops at
// that root (openat2 RESOLVE_IN_ROOT). Nothing outside the image is
// ever reached.

// openInRoot opens rel ("a/b", resolved in the image rooted at rootfd)
// with O_PATH; dir: it must be a directory.
func openInRoot(rootfd int, rel string, dir bool) (int, error) {
	flags := uint64(unix.O_PATH | unix.O_CLOEXEC)
	if dir {
		flags |= unix.O_DIRECTORY
	}
	if rel == "" {
		rel = "."
	}
	how := unix.OpenHow{Flags: flags, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
	for range 16 {
		fd, err := unix.Openat2(rootfd, rel, &how)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			continue // a concurrent rename: the kernel asks to retry
		}
		return fd, err
	}
	return -1, unix.EAGAIN
}

// mkdirInRoot opens the directory rel of the image, making what is
// missing of it (0755, as MkdirAll; owned by uid:gid unless uid < 0),
// each component resolved in the image's root.
func mkdirInRoot(rootfd int, rel string, uid, gid int) (int, error) {
	fd, err := openInRoot(rootfd, rel, true)
	parent, base := path.Split(rel)
	parent = strings.TrimSuffix(parent, "/")
	if errors.Is(err, unix.ENOTDIR) && parent != "" {
		// Name the component that is not a directory.
		pfd, perr := mkdirInRoot(rootfd, parent, uid, gid)
		if perr != nil {
			return -1, perr
		}
		unix.Close(pfd)
	}
	if !errors.Is(err, unix.ENOENT) {
		if errors.Is(err, unix.ENOTDIR) {
			return -1, fmt.Errorf("/%s: a file is in the way (not a directory)", rel)
		}
		return fd, err
	}
	pfd := rootfd
	if parent != "" {
		if pfd, err = mkdirInRoot(rootfd, parent, uid, gid); err != nil {
			return -1, err
		}
		defer unix.Close(pfd)
	}
	made := true
	if err := unix.Mkdirat(pfd, base, 0o755); errors.Is(err, unix.EEXIST) {
		made = false
	} else if err != nil {
		return -1, err
	}
	// base is a name in the resolved parent: opened without following
	// (a symlink that leads nowhere, made meanwhile or before, is refused).
	how := unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS}
	fd, err = unix.Openat2(pfd, base, &how)
	if errors.Is(err, unix.ELOOP) {
		return -1, fmt.Errorf("/%s: a symlink that leads nowhere is in the way", rel)
	}
	if err == nil && made && uid >= 0 {
		if err = unix.Fchownat(fd, "", uid, gid, unix.AT_EMPTY_PATH); err != nil {
			unix.Close(fd)
			return -1, err
		}
	}
	return fd, err
}

// rootAt is the *os.Root of the directory fd (which it does not close).
func rootAt(fd int) (*os.Root, error) {
	return os.OpenRoot("/proc/self/fd/" + strconv.Itoa(fd))
}

// mkdirAllInRoot makes the directory p (absolute, in the image rooted
// at root) and its missing parents, owned by uid:gid (unless uid < 0),
// resolving symlinks in the image.
func mkdirAllInRoot(root string, p string, uid, gid int) error {
	rootfd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(rootfd)
	rel := strings.TrimPrefix(path.Clean("/"+p), "/")
	if rel == "" {
		return nil
	}
	fd, err := mkdirInRoot(rootfd, rel, uid, gid)
	if err != nil {
		return err
	}
	return unix.Close(fd)
}
