package main

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"

	"github.com/strata-sh/strata/internal/treepath"
	"golang.org/x/sys/unix"
)

// resolveHostPath is where the absolute host path p leads, through
// every symbolic link, as filepath.EvalSymlinks; except that a link read
// in a work tree is followed as the container sees it, in its root
// (treepath.Resolve). A container that plants data -> /home/me/.ssh in
// its tree has "-v ./rootfs/data:/d" bind rootfs/home/me/.ssh, if
// anything, never the host's.
func resolveHostPath(p string) (string, error) {
	dest, _, err := treepath.Resolve(p)
	if errors.Is(err, treepath.ErrChanged) {
		return "", fmt.Errorf("%s changed while it was resolved: %w", p, errPathMoved)
	}
	return dest, err
}

// errLinkPut: the path p in a work tree, resolved there (treepath.Path),
// had a symbolic link put on its way since: the container swapped one in.
func errLinkPut(p string) error {
	return fmt.Errorf("%s %w", p, treepath.ErrLinkPut)
}

// pinnedPath is a path a command reads by name: real is where it leads
// (the absolute path as typed, outside every work tree), open the path
// to open it by. In a work tree (treepath.Path), open is the /proc/self/fd
// path of a descriptor opened once where it leads, with no link on the
// way: a container that swaps a directory on it for a link while the
// command reads cannot lead it out of the tree. close releases that.
type pinnedPath struct {
	real, open string
	close      func()
}

// named is err with the path open names in its message as the path
// real: an error met through the descriptor names what the user typed.
func (pp pinnedPath) named(err error) error {
	if err == nil || pp.open == pp.real {
		return err
	}
	return renamedError{err, regexp.MustCompile(regexp.QuoteMeta(pp.open) + `\b`), pp.real}
}

// renamedError is err with old named new in its message.
type renamedError struct {
	err error
	old *regexp.Regexp
	new string
}

func (e renamedError) Error() string {
	return e.old.ReplaceAllLiteralString(e.err.Error(), e.new)
}
func (e renamedError) Unwrap() error { return e.err }

// pinTreePath pins p as pinnedPath says.
func pinTreePath(p string) (pinnedPath, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return pinnedPath{}, err
	}
	pp := pinnedPath{real: abs, open: abs, close: func() {}}
	real, inTree, err := treepath.Path(p, true)
	if err != nil || !inTree {
		return pp, err
	}
	fd, err := unix.Openat2(unix.AT_FDCWD, real, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
	if errors.Is(err, unix.ELOOP) {
		return pp, errLinkPut(p)
	}
	if err != nil {
		return pp, &fs.PathError{Op: "open", Path: real, Err: err}
	}
	return pinnedPath{real: real, open: "/proc/self/fd/" + strconv.Itoa(fd), close: func() { unix.Close(fd) }}, nil
}
