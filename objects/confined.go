package objects

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/internal/atomicfile"
	"golang.org/x/sys/unix"
)

// ErrLinkInLayout is a symbolic link inside a layout that another party
// may hold (OpenLayout, OpenIn): it is not followed.
var ErrLinkInLayout = errors.New("a symbolic link inside the layout, not followed")

// OpenIn opens rel, a path inside the layout directory dirfd, with flags:
// resolved beneath dirfd with no symbolic link on the way, rel's last
// name included. Errors name the path name (the layout as the user gave
// it) joined with rel; a link is ErrLinkInLayout. A strata layout holds
// no link, and one a container holds may hold any: blobs -> /srv or
// index.json -> /etc/shadow would lead a push or a fetch out of it.
func OpenIn(dirfd int, name, rel string, flags int) (*os.File, error) {
	fd, p, err := openIn(dirfd, name, rel, flags)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), p), nil
}

// OpenFDIn is OpenIn's descriptor.
func OpenFDIn(dirfd int, name, rel string, flags int) (int, error) {
	fd, _, err := openIn(dirfd, name, rel, flags)
	return fd, err
}

// openIn is OpenIn's descriptor and path.
func openIn(dirfd int, name, rel string, flags int) (int, string, error) {
	p := filepath.Join(name, rel)
	how := &unix.OpenHow{
		Flags:   uint64(flags | unix.O_CLOEXEC),
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	}
	var fd int
	var err error
	for try := 0; try < 100; try++ {
		// EAGAIN: a rename elsewhere in the file system raced the walk.
		if fd, err = unix.Openat2(dirfd, rel, how); err != unix.EAGAIN && err != unix.EINTR {
			break
		}
	}
	if err == unix.ELOOP || err == unix.EXDEV {
		err = ErrLinkInLayout
	}
	if err != nil {
		return -1, p, &fs.PathError{Op: "open", Path: p, Err: err}
	}
	return fd, p, nil
}

// confined are the directories of a store that OpenLayout opened: the
// layout, its blobs/sha256 and tmp, each opened once beneath the layout
// with no symbolic link on the way. Every name in them is taken in its
// descriptor and never followed: a container that holds the layout and
// plants a link in it, or swaps a directory for one, leads no read or
// write out of it.
type confined struct {
	dir, blobs, tmp atomicfile.Dir
}

// OpenLayout opens the OCI image layout in the directory dirfd as a
// store, creating an empty one (oci-layout, an empty index.json,
// blobs/sha256) if it holds none; name is how messages name it. It is
// how a layout directory used as a remote is written: through the same
// writer as a repository, staging in its tmp. Another party may hold
// the layout: the store is confined to it as confined says for Has,
// Reuse, Size, Open, the Read methods, Put, PutBytes, NewWriter and the
// index methods; no other method is for such a store.
func OpenLayout(dirfd int, name string) (*Store, error) {
	c := &confined{dir: atomicfile.Dir{FD: -1}, blobs: atomicfile.Dir{FD: -1}, tmp: atomicfile.Dir{FD: -1}}
	s := &Store{root: name, in: c}
	runtime.AddCleanup(s, (*confined).close, c)
	var err error
	if c.dir, err = openDirIn(dirfd, name, "."); err != nil {
		return nil, err
	}
	blobs, err := mkdirIn(c.dir, "blobs")
	if err != nil {
		return nil, err
	}
	c.blobs, err = mkdirIn(blobs, "sha256")
	unix.Close(blobs.FD)
	if err != nil {
		return nil, err
	}
	if c.tmp, err = mkdirIn(c.dir, "tmp"); err != nil {
		return nil, err
	}
	// An empty index.json only where there is none: two first pushes
	// race, and the one that lost must not erase the other's tag.
	// oci-layout last: it says the directory is a layout.
	empty := &ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{}}
	b, _ := json.MarshalIndent(empty, "", "  ")
	if err := atomicfile.CreateAt(c.tmp, c.dir, ocispec.ImageIndexFile, append(b, '\n'), 0o644); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("index.json: %w", err)
	}
	layout, _ := json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
	if err := atomicfile.CreateAt(c.tmp, c.dir, ocispec.ImageLayoutFile, layout, 0o644); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	return s, nil
}

// openDirIn opens the directory rel in dirfd as OpenIn does.
func openDirIn(dirfd int, name, rel string) (atomicfile.Dir, error) {
	fd, p, err := openIn(dirfd, name, rel, unix.O_RDONLY|unix.O_DIRECTORY)
	return atomicfile.Dir{FD: fd, Name: p}, err
}

// mkdirIn makes the directory name in d unless it is there, and opens it.
func mkdirIn(d atomicfile.Dir, name string) (atomicfile.Dir, error) {
	if err := unix.Mkdirat(d.FD, name, 0o755); err != nil && err != unix.EEXIST {
		return atomicfile.Dir{FD: -1}, &fs.PathError{Op: "mkdir", Path: d.Path(name), Err: err}
	}
	return openDirIn(d.FD, d.Name, name)
}

// close releases the directories, once the store is unreachable.
func (c *confined) close() {
	for _, d := range []atomicfile.Dir{c.dir, c.blobs, c.tmp} {
		if d.FD >= 0 {
			unix.Close(d.FD)
		}
	}
}

// statBlob is the stat of blob d's name, not followed.
func (c *confined) statBlob(d digest.Digest) (unix.Stat_t, error) {
	var st unix.Stat_t
	err := unix.Fstatat(c.blobs.FD, d.Encoded(), &st, unix.AT_SYMLINK_NOFOLLOW)
	if err == nil && st.Mode&unix.S_IFMT != unix.S_IFREG {
		err = ErrNotRegular
	}
	if err != nil {
		return st, &fs.PathError{Op: "stat", Path: c.blobs.Path(d.Encoded()), Err: err}
	}
	return st, nil
}

// readIn reads the file name in d whole, not following a link.
func readIn(d atomicfile.Dir, name string) ([]byte, error) {
	f, err := OpenIn(d.FD, d.Name, name, unix.O_RDONLY|unix.O_NONBLOCK)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}
