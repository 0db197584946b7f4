// Package treepath resolves the host paths a command line names where
// they may pass through a work tree: a container writes its tree, links
// included, and a link it planted there names a path in the container,
// so that is where it is followed (in the tree's root), never the host's
// file of the same name.
package treepath

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// ErrChanged: a link read a moment before was not one any more (a
// container swapped it).
var ErrChanged = errors.New("changed while it was resolved")

// maxLinks bounds the symbolic links Resolve follows (as
// filepath.EvalSymlinks does): a loop ends in ELOOP.
const maxLinks = 255

// Resolve is where the absolute host path p leads, through every
// symbolic link, as filepath.EvalSymlinks; except that a link read in a
// work tree (an overlay mount: a container writes there) is followed as
// the container sees it, in its root, as docker cp follows a container's
// links: an absolute target starts at the tree's root and ".." stops
// there. The parts of p as typed are the caller's and followed as they
// lead, ".." out of a tree included. inTree says whether a link in a
// tree was on the way, or, when it fails, whether it failed in a tree:
// only a path in no tree may be left to the kernel to resolve.
func Resolve(p string) (dest string, inTree bool, err error) {
	if !filepath.IsAbs(p) {
		return "", false, fmt.Errorf("%s: not an absolute path", p)
	}
	// todo holds the names still to walk, last first; each remembers
	// the tree whose link it was read from ("" for p's own).
	type name struct{ part, tree string }
	var todo []name
	push := func(s, tree string) {
		parts := strings.Split(s, "/")
		for i := len(parts) - 1; i >= 0; i-- {
			if parts[i] != "" && parts[i] != "." {
				todo = append(todo, name{parts[i], tree})
			}
		}
	}
	push(p, "")
	dest, links := "/", 0
	for len(todo) > 0 {
		n := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if n.part == ".." {
			if dest != n.tree {
				dest = filepath.Dir(dest)
			}
			continue
		}
		next := filepath.Join(dest, n.part)
		fi, err := os.Lstat(next)
		if err != nil && inTree {
			return "", true, &fs.PathError{Op: "resolve", Path: p, Err: fmt.Errorf(
				"leads to %s (a work tree's links are followed as its container sees them): %w", next, errors.Unwrap(err))}
		}
		if err != nil {
			return "", Root(dest) != "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			dest = next
			continue
		}
		// In a tree before the link is read: a link swapped away under
		// the read is a tree's path all the same, not one in no tree.
		tree := n.tree
		if t := Root(dest); t != "" {
			tree, inTree = t, true
		}
		if links++; links > maxLinks {
			return "", inTree, &fs.PathError{Op: "resolve", Path: p, Err: syscall.ELOOP}
		}
		target, err := os.Readlink(next)
		if errors.Is(err, syscall.EINVAL) {
			// readlink of what was a link a moment before: swapped under us.
			return "", inTree, fmt.Errorf("%s: %w", p, ErrChanged)
		}
		if err != nil {
			return "", inTree, err
		}
		if filepath.IsAbs(target) {
			dest = "/"
			if tree != "" {
				dest = tree
			}
		}
		push(target, tree)
	}
	return dest, inTree, nil
}

// Root is the root of the overlay mount (a work tree) that the
// directory dir, which has no symbolic link on the way, is on; "" when
// it is on none.
func Root(dir string) string {
	var st unix.Stat_t
	if !isOverlay(dir) || unix.Stat(dir, &st) != nil {
		return ""
	}
	for dir != "/" {
		parent := filepath.Dir(dir)
		var pst unix.Stat_t
		if unix.Stat(parent, &pst) != nil || pst.Dev != st.Dev || !isOverlay(parent) {
			break
		}
		dir = parent
	}
	return dir
}

// isOverlay reports whether p, a path with no symbolic link on the way,
// is on an overlay file system. A link there now was swapped in since p
// was walked, as only a work tree's container does: that counts as an
// overlay, for the caller to open p with no link let in, and refuse it,
// rather than follow the link as a path in no tree.
func isOverlay(p string) bool {
	fd, err := unix.Openat2(unix.AT_FDCWD, p, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
	if errors.Is(err, unix.ELOOP) {
		return true
	}
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	var fs unix.Statfs_t
	return unix.Fstatfs(fd, &fs) == nil && fs.Type == unix.OVERLAYFS_SUPER_MAGIC
}

// Path is where the path p, as a command line names it, leads when
// it is in a work tree or a link on its way leads into one: a container
// writes there, and a link it planted (out.tar -> /etc/passwd, or a
// directory on the way -> /etc) is followed as the container sees it,
// in the tree's root (Resolve), never to the host. The last
// name is followed only with followLast. inTree is false for a path in
// no tree, which the caller uses as the kernel resolves it.
func Path(p string, followLast bool) (string, bool, error) {
	abs := p // not filepath.Abs, which cleans: link/.. is link's parent
	if !filepath.IsAbs(p) {
		wd, err := os.Getwd()
		if err != nil {
			return "", false, err
		}
		abs = wd + "/" + p
	}
	real, inTree := abs, false
	dir, base, ok := Split(abs)
	if ok {
		d, in, err := Resolve(dir)
		if err != nil {
			return "", false, treeErr(err, in)
		}
		real, inTree = filepath.Join(d, base), in
	}
	// The last name when it is a link to follow, or when p ends in no
	// name ("app/", "app/.": Split leaves those to Resolve).
	if fi, err := os.Lstat(real); !ok || followLast && err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		r, in, err := Resolve(real)
		if err != nil {
			return "", false, treeErr(err, inTree || in)
		}
		real, inTree = r, inTree || in
	}
	if !inTree && Root(filepath.Dir(real)) == "" {
		return "", false, nil
	}
	return real, true, nil
}

// treeErr is Path's error for a resolution that failed: err in a tree;
// none in no tree, where the caller's own use of the path, as the kernel
// resolves it, says what is wrong (or opens /dev/stderr, whose magic
// links Resolve cannot follow).
func treeErr(err error, inTree bool) error {
	if inTree {
		return err
	}
	return nil
}

// Split splits p into its directory and its last name, without
// cleaning (filepath.Dir of link/../x is ".", where the kernel goes to
// link's parent); ok is false when p ends in no name.
func Split(p string) (dir, base string, ok bool) {
	i := strings.LastIndex(p, "/")
	dir, base = ".", p[i+1:]
	switch {
	case i == 0:
		dir = "/"
	case i > 0:
		dir = p[:i]
	}
	return dir, base, base != "" && base != "." && base != ".."
}

// ErrLinkPut: a path resolved in a work tree (Path) had a symbolic link
// put on its way since: the container swapped one in.
var ErrLinkPut = errors.New("changed while it was resolved: a symbolic link was put in its way (the container can write there)")

// OpenDir opens the directory name (in dirfd, or absolute), with no
// symbolic link on its way, as Path leaves a path in a work tree, as an
// O_PATH descriptor for the caller to use it by (through /proc/self/fd):
// a container that swaps a directory on the way for a link since then
// fails the open (ErrLinkPut), and one that swaps it after cannot lead
// the caller anywhere else.
func OpenDir(dirfd int, name string) (int, error) {
	fd, err := unix.Openat2(dirfd, name, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
	if errors.Is(err, unix.ELOOP) {
		return -1, fmt.Errorf("%s %w", name, ErrLinkPut)
	}
	if err != nil {
		return -1, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return fd, nil
}

// FDPath is the path that opens the descriptor fd.
func FDPath(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }
