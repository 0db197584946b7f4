package worktree

// What a process holds in a work tree, for the in-use error to name: a
// user told "in use by 4242 (sleep)" must still find what to close.

import (
	"bytes"
	"os"
	"strconv"
	"strings"

	"github.com/strata-sh/strata/internal/pathquote"
	"golang.org/x/sys/unix"
)

// holdsIn says what process pid holds in the tree mounted at target on
// overlay id, as /proc tells it: a file open for writing first (what
// keeps the tree from freezing), then one open for reading, its working
// directory, its root, a mapping. "" when /proc does not say (the
// process ended, or hides it). Called only for the users found, so its
// cost is not paid per process of the machine.
func holdsIn(pid int, id overlayID, target string) string {
	pfd, err := unix.Open("/proc/"+strconv.Itoa(pid), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return ""
	}
	defer unix.Close(pfd)
	if what := openFileIn(pfd, id, target); what != "" {
		return what
	}
	if onOverlayAt(pfd, "cwd", id) {
		return "in " + linkIn(pfd, "cwd", target)
	}
	if onOverlayAt(pfd, "root", id) {
		return "rooted in it"
	}
	if p := mappingIn(pfd, target); p != "" {
		return "mapping " + p
	}
	return ""
}

// openFileIn names a file in the tree that the process at pfd has open:
// "writing /var/app.log", else "reading /etc/f".
func openFileIn(pfd int, id overlayID, target string) string {
	fd, err := unix.Openat(pfd, "fd", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return ""
	}
	f := os.NewFile(uintptr(fd), "fd")
	defer f.Close()
	names, _ := f.Readdirnames(-1)
	reading := ""
	for _, n := range names {
		if !onOverlayAt(fd, n, id) {
			continue
		}
		if openForWriting(pfd, n) {
			return "writing " + linkIn(fd, n, target)
		}
		if reading == "" {
			reading = "reading " + linkIn(fd, n, target)
		}
	}
	return reading
}

// openForWriting reports whether descriptor n of the process at pfd was
// opened for writing: the access mode in /proc/PID/fdinfo/N's flags.
func openForWriting(pfd int, n string) bool {
	fd, err := unix.Openat(pfd, "fdinfo/"+n, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	data, err := readAll(fd, make([]byte, 0, 256))
	unix.Close(fd)
	if err != nil {
		return false
	}
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("flags:")); ok {
			flags, err := strconv.ParseUint(strings.TrimSpace(string(v)), 8, 64)
			return err == nil && flags&unix.O_ACCMODE != unix.O_RDONLY
		}
	}
	return false
}

// mappingIn names a file in the tree the process at pfd maps.
func mappingIn(pfd int, target string) string {
	fd, err := unix.Openat(pfd, "maps", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return ""
	}
	data, err := readAll(fd, nil)
	unix.Close(fd)
	if err != nil {
		return ""
	}
	if p := mappedUnder(data, target); p != "" {
		return inTree(p, target)
	}
	return ""
}

// linkIn is the path the /proc magic link name in dfd shows, made a
// path in the tree.
func linkIn(dfd int, name, target string) string {
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(dfd, name, buf)
	if err != nil {
		return "?"
	}
	return inTree(strings.TrimSuffix(string(buf[:n]), " (deleted)"), target)
}

// inTree is p, a path the host sees under target, as a path in the tree
// ("/var/app.log"). A process in another mount namespace (a container
// rooted in the tree) shows its own paths, which are already so.
func inTree(p, target string) string {
	if p == target {
		p = "/"
	} else if rest, ok := strings.CutPrefix(p, target+"/"); ok {
		p = "/" + rest
	}
	return pathquote.Quote(p)
}
