package build

import (
	"os"
	"path"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// dirRoots keeps a directory of a tree open per path, so that each file
// is reached in one step from its directory rather than by resolving its
// whole path again (os.Root walks every component): a COPY of thousands
// of files spent most of its time there.
//
// With create (the image a COPY writes to), directories resolve in the
// image's root (mkdirInRoot: its symlinks followed as the container
// would, never out of it) and missing ones are made, owned by uid:gid.
type dirRoots struct {
	mu       sync.Mutex
	root     *os.Root
	rootfd   int  // with create: root, for openat2
	create   bool // make missing directories (0755), as a COPY's parents
	uid, gid int  // with create: the owner of what is made
	open     map[string]*os.Root
	err      error // opening rootfd
}

func newDirRoots(root *os.Root, create bool) *dirRoots {
	d := &dirRoots{root: root, create: create, open: map[string]*os.Root{}, rootfd: -1}
	if create {
		d.rootfd, d.err = unix.Open(root.Name(), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	}
	return d
}

// isDir says whether name is (or is a symlink that leads, in the
// image's root, to) a directory.
func (d *dirRoots) isDir(name string) bool {
	if d.rootfd < 0 {
		return false
	}
	fd, err := openInRoot(d.rootfd, name, true)
	if err != nil {
		return false
	}
	unix.Close(fd)
	return true
}

// at returns the directory holding name, and name's last element.
func (d *dirRoots) at(name string) (*os.Root, string, error) {
	dir, base := path.Split(name)
	dir = strings.TrimSuffix(dir, "/")
	if dir == "" {
		return d.root, base, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if r, ok := d.open[dir]; ok {
		return r, base, nil
	}
	var r *os.Root
	if d.create {
		if d.err != nil {
			return nil, "", d.err
		}
		fd, err := mkdirInRoot(d.rootfd, dir, d.uid, d.gid)
		if err != nil {
			return nil, "", err
		}
		r, err = rootAt(fd)
		unix.Close(fd)
		if err != nil {
			return nil, "", err
		}
	} else {
		var err error
		if r, err = d.root.OpenRoot(dir); err != nil {
			return nil, "", err
		}
	}
	d.open[dir] = r
	return r, base, nil
}

// forget closes what is open at or under name, which is being replaced.
func (d *dirRoots) forget(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for p, r := range d.open {
		if p == name || strings.HasPrefix(p, name+"/") {
			r.Close()
			delete(d.open, p)
		}
	}
}

func (d *dirRoots) close() {
	for _, r := range d.open {
		r.Close()
	}
	if d.rootfd >= 0 {
		unix.Close(d.rootfd)
	}
}
