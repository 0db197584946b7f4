package build

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"unicode/utf8"

	"github.com/strata-sh/strata/internal/pathquote"
	"golang.org/x/sys/unix"
)

// MaxDockerfile caps a Dockerfile and an ignore file: both are read whole.
const MaxDockerfile = 4 << 20

// ErrLeavesContext: a file of the context is reached through a symlink
// (or "..") that leads out of it.
var ErrLeavesContext = errors.New("a symlink or \"..\" leads outside the context")

// ReadContextFile reads name (a path relative to the context directory
// dir) for the build itself: the context's Dockerfile or ignore file.
// Whoever wrote the context must not make the build read the builder's
// files, so name resolves beneath dir (ErrLeavesContext otherwise); and
// only a regular file of at most max bytes is read: a FIFO is never
// waited on, a device never opened for reading.
func ReadContextFile(dir, name string, max int64) ([]byte, error) {
	dfd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(dfd)
	return readRegularAt(dfd, name, unix.RESOLVE_BENEATH|unix.RESOLVE_NO_MAGICLINKS, max)
}

// ReadFile reads path as the user named it (symlinks followed, as
// docker's -f), with ReadContextFile's other checks: a regular file of
// at most max bytes, nothing opened that could block or has a side
// effect on open.
func ReadFile(path string, max int64) ([]byte, error) {
	return readRegularAt(unix.AT_FDCWD, path, 0, max)
}

// ReadFileNoLinks is ReadFile of a path with no symbolic link on its
// way: one there fails with ELOOP.
func ReadFileNoLinks(path string, max int64) ([]byte, error) {
	return readRegularAt(unix.AT_FDCWD, path, unix.RESOLVE_NO_SYMLINKS|unix.RESOLVE_NO_MAGICLINKS, max)
}

// readRegularAt resolves name with O_PATH (which opens nothing: no FIFO
// wait, no device open), checks it is a regular file, and only then
// opens that same inode for reading through /proc/self/fd.
func readRegularAt(dfd int, name string, resolve uint64, max int64) ([]byte, error) {
	how := unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: resolve}
	var fd int
	var err error
	for range 16 {
		if fd, err = unix.Openat2(dfd, name, &how); !errors.Is(err, unix.EAGAIN) && !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if errors.Is(err, unix.EXDEV) && resolve&unix.RESOLVE_BENEATH != 0 {
		return nil, ErrLeavesContext
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, fmt.Errorf("not a regular file (%s)", typeName(st.Mode))
	}
	if st.Size > max {
		return nil, fmt.Errorf("larger than %d bytes", max)
	}
	// Its errors name the file, not the descriptor it is opened by
	// ("open /proc/self/fd/9: permission denied").
	f, err := os.OpenFile("/proc/self/fd/"+strconv.Itoa(fd), os.O_RDONLY|unix.O_NOCTTY|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: errors.Unwrap(err)}
	}
	defer f.Close()
	// A file that grows while it is read (or reports size 0, as /proc)
	// is still cut at max.
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errors.Unwrap(err)}
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("larger than %d bytes", max)
	}
	return b, nil
}

func typeName(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return "a directory"
	case unix.S_IFIFO:
		return "a named pipe"
	case unix.S_IFSOCK:
		return "a socket"
	case unix.S_IFCHR:
		return "a character device"
	case unix.S_IFBLK:
		return "a block device"
	}
	return "not a file"
}

// modeName names a file type as typeName does.
func modeName(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return typeName(unix.S_IFIFO)
	case m&fs.ModeSocket != 0:
		return typeName(unix.S_IFSOCK)
	case m&fs.ModeCharDevice != 0:
		return typeName(unix.S_IFCHR)
	case m&fs.ModeDevice != 0:
		return typeName(unix.S_IFBLK)
	case m.IsDir():
		return typeName(unix.S_IFDIR)
	}
	return "not a file"
}

// maxQuoted is how much of a Dockerfile's text an error quotes.
const maxQuoted = 128

// quoteText is s for an error message: at most maxQuoted bytes (cut at a
// character, "..." marking the cut), control characters escaped.
func quoteText(s string) string {
	return pathquote.Text(cut(s))
}

// quoteWord is quoteText for a word, in double quotes if it needs escapes.
func quoteWord(s string) string {
	return pathquote.Quote(cut(s))
}

func cut(s string) string {
	if len(s) <= maxQuoted {
		return s
	}
	n := maxQuoted
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
