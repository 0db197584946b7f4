package build

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/zeebo/blake3"
	"golang.org/x/sys/unix"
)

// writeEntries copies the entries into dst, the overlay of the parent,
// owned by uid:gid, or by their sources' owners with keepOwners (the
// missing parents of the destination are uid:gid's either way), and
// returns their digest (digestEntries'). Destination paths resolve
// inside dst: a symlink of the image that leads out is refused, never
// followed. Directories and symlinks are made in order; regular files are
// copied by a worker per core once their directory exists, unless two
// entries share a destination (then order decides, and all runs in
// order). Directory times are set last, after their files went in. A
// cancelled ctx stops it between files.
//
// An archive an ADD unpacks (entry.unpack) is unpacked in order, its
// files owned as the archive says, or by uid:gid with chown.
func writeEntries(ctx context.Context, src, dst *os.Root, ents []entry, chmod fs.FileMode, uid, gid int, keepOwners, chown bool) (string, error) {
	srcDirs, dstDirs := newDirRoots(src, false), newDirRoots(dst, true)
	// The destination's missing parents belong to --chown's owner, as
	// docker, buildkit and buildah make them.
	dstDirs.uid, dstDirs.gid = uid, gid
	defer srcDirs.close()
	defer dstDirs.close()
	sums := make([][]byte, len(ents))
	xsums := make([]string, len(ents)) // the xattrs' digests
	workers := runtime.GOMAXPROCS(0)
	seen := make(map[string]bool, len(ents))
	// Hard links among the copied files stay links (as the direct copy's
	// layer keeps them): linkOf[i] is the first entry of i's inode.
	type inode struct{ dev, ino uint64 }
	firstOf := map[inode]int{}
	linkOf := map[int]int{}
	if dirAfterItsFile(ents) {
		workers = 0
	}
	for i, e := range ents {
		if e.top || e.unpack || seen[e.dst] {
			workers = 0
		}
		seen[e.dst] = true
		if st, ok := e.fi.Sys().(*syscall.Stat_t); ok && e.fi.Mode().IsRegular() && st.Nlink > 1 {
			k := inode{uint64(st.Dev), st.Ino}
			if f, ok := firstOf[k]; ok {
				linkOf[i] = f
				workers = 0 // a link after its file: in order
			} else {
				firstOf[k] = i
			}
		}
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		werr error
		jobs = make(chan int)
	)
	fail := func(err error) {
		mu.Lock()
		if werr == nil {
			werr = err
		}
		mu.Unlock()
	}
	failed := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return werr != nil
	}
	do := func(i int) {
		if err := ctx.Err(); err != nil {
			fail(err) // Ctrl-C: stop between files
			return
		}
		e := ents[i]
		if f, ok := linkOf[i]; ok {
			if err := linkEntry(dstDirs, destName(ents[f]), destName(e)); err != nil {
				fail(fmt.Errorf("%s: %v", e.dst, rootErr(err)))
			}
			sums[i], xsums[i] = sums[f], xsums[f]
			return
		}
		if e.unpack {
			sum, err := unpackEntry(ctx, srcDirs, dstDirs, e, uid, gid, chown)
			if err != nil {
				fail(fmt.Errorf("%s: %w", e.src, err))
			}
			sums[i] = sum
			return
		}
		ou, og := uid, gid
		if keepOwners {
			ou, og = sourceOwner(e)
		}
		sum, xsum, err := writeEntry(srcDirs, dstDirs, e, destName(e), permOf(e, chmod), ou, og)
		if err != nil {
			fail(fmt.Errorf("%s: %v", e.dst, rootErr(err)))
		}
		sums[i], xsums[i] = sum, xsum
	}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				do(i)
			}
		}()
	}
	type dirTime struct {
		dir  *os.Root
		base string
		t    time.Time
	}
	var dirTimes []dirTime
	for i, e := range ents {
		if failed() {
			break
		}
		if e.fi.Mode().IsRegular() && workers > 0 {
			jobs <- i
			continue
		}
		do(i)
		if e.fi.IsDir() && !failed() {
			// Not through a symlink that was followed: the directory it
			// leads to is the image's.
			if dir, base, err := dstDirs.at(destName(e)); err == nil && destName(e) != "." {
				if fi, err := dir.Lstat(base); err == nil && fi.IsDir() {
					dirTimes = append(dirTimes, dirTime{dir, base, e.fi.ModTime()})
				}
			}
		}
	}
	close(jobs)
	wg.Wait()
	if werr != nil {
		return "", werr
	}
	for i := len(dirTimes) - 1; i >= 0; i-- {
		d := dirTimes[i]
		if err := d.dir.Chtimes(d.base, d.t, d.t); err != nil {
			return "", err
		}
	}
	h := newEntryHasher(chmod, keepOwners)
	for i, e := range ents {
		h.add(e, sums[i], xsums[i])
	}
	return h.sum(), nil
}

// dirAfterItsFile reports whether a directory entry comes after a file
// below it, as in COPY a/file a/dir /dst/ (the file goes in /dst, and
// the directory a/dir is /dst itself). Files are written on workers
// while the directories go in order: the file's worker would make the
// directory as a missing parent while the entry made it too, one
// winning at random (mkdirat: file exists, or the one mode or the
// other). Such a copy goes in order.
func dirAfterItsFile(ents []entry) bool {
	dirAt := map[string]int{}
	for i, e := range ents {
		if _, ok := dirAt[e.dst]; !ok && e.fi.IsDir() {
			dirAt[e.dst] = i
		}
	}
	for i, e := range ents {
		if e.fi.IsDir() {
			continue
		}
		for d := path.Dir(e.dst); ; d = path.Dir(d) {
			if j, ok := dirAt[d]; ok && j > i {
				return true
			}
			if d == "/" || d == "." {
				break
			}
		}
	}
	return false
}

func destName(e entry) string {
	name := strings.TrimPrefix(e.dst, "/")
	if name == "" {
		return "."
	}
	return name
}

func permOf(e entry, chmod fs.FileMode) fs.FileMode {
	if chmod = chmodOf(e, chmod); chmod != 0 {
		return chmod &^ chmodSet
	}
	return e.fi.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
}

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
