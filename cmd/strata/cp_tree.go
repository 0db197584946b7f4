package main

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// The file work of cp (cmd_cp.go). A run's tree is the container's to
// change while cp reads or writes it, so every file is reached from a
// pinned descriptor one name at a time, never through a symbolic link
// (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS), and every entry cp
// makes is made under a temporary name in a pinned directory and
// renamed over the name: a link planted at the name is replaced, never
// followed. Only regular files and directories are ever opened to be
// read, through the descriptor whose type was checked (a device or FIFO
// is copied as a node, as docker's).

// beneath resolves one name below the directory dirfd without following
// any link.
var beneath = unix.OpenHow{
	Flags:   unix.O_PATH | unix.O_NOFOLLOW | unix.O_CLOEXEC,
	Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
}

// openat2Retry is openat2 retried while the kernel asks to (a rename
// elsewhere in the tree while it resolved).
func openat2Retry(dirfd int, name string, how *unix.OpenHow) (int, error) {
	for range 16 {
		fd, err := unix.Openat2(dirfd, name, how)
		if !errors.Is(err, unix.EAGAIN) && !errors.Is(err, unix.EINTR) {
			return fd, err
		}
	}
	return -1, unix.EAGAIN
}

// reopen opens the file the O_PATH descriptor fd pins with flags: the
// same inode, whatever its name leads to now.
func reopen(fd int, flags int) (*os.File, error) {
	f, err := os.OpenFile("/proc/self/fd/"+strconv.Itoa(fd), flags|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// pseudoFS names the file systems cp does not read: their files are
// the kernel's (a container's /proc and /sys), not the tree's; docker's
// cp does not see them either.
func pseudoFS(fd int) string {
	var st unix.Statfs_t
	if unix.Fstatfs(fd, &st) != nil {
		return ""
	}
	switch st.Type {
	case unix.PROC_SUPER_MAGIC:
		return "proc"
	case unix.SYSFS_MAGIC:
		return "sysfs"
	case unix.CGROUP_SUPER_MAGIC, unix.CGROUP2_SUPER_MAGIC:
		return "cgroup"
	case unix.DEVPTS_SUPER_MAGIC:
		return "devpts"
	case unix.SECURITYFS_MAGIC, unix.DEBUGFS_MAGIC, unix.TRACEFS_MAGIC, unix.BPF_FS_MAGIC:
		return "pseudo"
	}
	return ""
}

// treeWriter writes entries to a tar stream, as docker's cp archives a
// source: directories recursively, links as links, nodes as nodes,
// hard links within the stream as hard links.
type treeWriter struct {
	tw    *tar.Writer
	links map[[2]uint64]string // dev, inode of files with links -> first name
	top   string               // the name of the entry cp was asked for
	shown string               // its path, for errors
}

// add writes the entry fd pins (an O_PATH descriptor, not followed)
// under the name as ("." for a directory's contents only).
func (t *treeWriter) add(fd int, as string) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	hdr := &tar.Header{
		Name: as, Mode: int64(st.Mode & 0o7777), Uid: int(st.Uid), Gid: int(st.Gid),
		ModTime: time.Unix(st.Mtim.Sec, 0), Format: tar.FormatPAX,
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return t.addDir(fd, hdr)
	case unix.S_IFREG:
		if st.Nlink > 1 {
			key := [2]uint64{st.Dev, st.Ino}
			if first, ok := t.links[key]; ok {
				hdr.Typeflag, hdr.Linkname = tar.TypeLink, first
				return t.tw.WriteHeader(hdr)
			}
			t.links[key] = as
		}
		if fs := pseudoFS(fd); fs != "" {
			return fmt.Errorf("%s: on a %s file system, not copied", t.name(as), fs)
		}
		f, err := reopen(fd, os.O_RDONLY)
		if err != nil {
			return err
		}
		defer f.Close()
		hdr.Typeflag, hdr.Size = tar.TypeReg, st.Size
		if err := t.tw.WriteHeader(hdr); err != nil {
			return err
		}
		n, err := io.CopyN(t.tw, f, st.Size)
		if err == io.EOF {
			return fmt.Errorf("%s: file shrank while it was copied (%d of %d bytes)", t.name(as), n, st.Size)
		}
		return err
	case unix.S_IFLNK:
		buf := make([]byte, unix.PathMax)
		n, err := unix.Readlinkat(fd, "", buf)
		if err != nil {
			return err
		}
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, string(buf[:n])
	case unix.S_IFCHR, unix.S_IFBLK:
		hdr.Typeflag = tar.TypeChar
		if st.Mode&unix.S_IFMT == unix.S_IFBLK {
			hdr.Typeflag = tar.TypeBlock
		}
		hdr.Devmajor, hdr.Devminor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
	case unix.S_IFIFO:
		hdr.Typeflag = tar.TypeFifo
	default: // a socket: docker's archive leaves it out too
		return nil
	}
	return t.tw.WriteHeader(hdr)
}

// addDir writes the directory fd pins and what it holds; the contents
// of a pseudo file system (a container's /proc) are left out.
func (t *treeWriter) addDir(fd int, hdr *tar.Header) error {
	if hdr.Name != "." {
		hdr.Typeflag = tar.TypeDir
		hdr.Name += "/"
		if err := t.tw.WriteHeader(hdr); err != nil {
			return err
		}
	}
	if pseudoFS(fd) != "" {
		return nil
	}
	d, err := reopen(fd, os.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return err
	}
	for _, n := range names {
		cfd, err := openat2Retry(int(d.Fd()), n, &beneath)
		if errors.Is(err, unix.ENOENT) {
			continue // removed meanwhile
		}
		if err != nil {
			return fmt.Errorf("%s: %w", t.name(path.Join(hdr.Name, n)), err)
		}
		err = t.add(cfd, path.Join(hdr.Name, n))
		unix.Close(cfd)
		if err != nil {
			return err
		}
	}
	return nil
}

// name is the entry as (in the stream) as the user knows it.
func (t *treeWriter) name(as string) string {
	return path.Join(t.shown, strings.TrimPrefix(as, t.top))
}

// treeReader makes the entries of a tar stream in a directory, as
// docker's cp extracts: missing parents made, an existing non-directory
// replaced, a directory never replaced by a non-directory.
type treeReader struct {
	dir      int  // the pinned directory the entries are made in
	uid, gid int  // the owner of what is made (root in a run, the user on the host)
	keep     bool // -a: the entries' own owners instead
	chown    bool // owners are set (not without root: what is made is the user's)
	// noDevices leaves device nodes out (a run's, copied to this
	// machine: a container may mknod any device, the host's disks
	// too); left has the names of those left out.
	noDevices bool
	// noSetID clears the set-user-ID and set-group-ID bits of the
	// files made (a run's, copied to this machine without -a): as cp's
	// when it does not keep the owners, so that a container's
	// set-user-ID file does not land here as one of the user's (root's).
	noSetID  bool
	left     []string
	dirTimes []dirTime
}

type dirTime struct {
	name string
	t    time.Time
}

// extract makes every entry of tr.
func (x *treeReader) extract(tr *tar.Reader) error {
	// Modes are set as made (mknodat): a node's cannot be changed
	// after without following a link put at its name.
	defer unix.Umask(unix.Umask(0))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read the archive: %w", err)
		}
		if err := x.entry(tr, hdr); err != nil {
			return err
		}
	}
	// Last, as tar does: making the entries in them moved their times.
	for i := len(x.dirTimes) - 1; i >= 0; i-- {
		d := x.dirTimes[i]
		if pfd, base, err := x.parent(d.name, false); err == nil {
			ts := []unix.Timespec{unix.NsecToTimespec(d.t.UnixNano()), unix.NsecToTimespec(d.t.UnixNano())}
			unix.UtimesNanoAt(pfd, base, ts, unix.AT_SYMLINK_NOFOLLOW)
			x.closeParent(pfd)
		}
	}
	return nil
}

// cleanEntry is an entry's name within the directory, or an error for
// one that climbs out of it.
func cleanEntry(name string) (string, error) {
	p := path.Clean("/" + name)[1:]
	if strings.Contains(name, "\x00") || slices.Contains(strings.Split(name, "/"), "..") {
		return "", fmt.Errorf("archive entry %q: refused: it climbs out of the destination", name)
	}
	return p, nil
}

// parent opens the directory an entry is made in, making what is
// missing of it when make; no link is followed on the way.
func (x *treeReader) parent(name string, make bool) (int, string, error) {
	dir, base := path.Split(name)
	fd := x.dir
	for _, c := range strings.Split(strings.Trim(dir, "/"), "/") {
		if c == "" {
			continue
		}
		how := beneath
		how.Flags |= unix.O_DIRECTORY
		next, err := openat2Retry(fd, c, &how)
		if errors.Is(err, unix.ENOENT) && make {
			// Made 0755 and the default owner's, as docker's MkdirAll.
			err = unix.Mkdirat(fd, c, 0o755)
			if err == nil && x.chown {
				err = unix.Fchownat(fd, c, x.uid, x.gid, unix.AT_SYMLINK_NOFOLLOW)
			}
			if err == nil || errors.Is(err, unix.EEXIST) {
				next, err = openat2Retry(fd, c, &how)
			}
		}
		x.closeParent(fd)
		if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.EXDEV) {
			return -1, "", fmt.Errorf("%s: a symbolic link or a file is in the way", strings.TrimSuffix(dir, "/"))
		}
		if err != nil {
			return -1, "", fmt.Errorf("%s: %w", strings.TrimSuffix(dir, "/"), err)
		}
		fd = next
	}
	return fd, base, nil
}

func (x *treeReader) closeParent(fd int) {
	if fd != x.dir {
		unix.Close(fd)
	}
}

// entry makes one entry of the archive.
func (x *treeReader) entry(tr *tar.Reader, hdr *tar.Header) error {
	name, err := cleanEntry(hdr.Name)
	if err != nil {
		return err
	}
	if name == "" {
		return nil // the destination itself ("./")
	}
	pfd, base, err := x.parent(name, true)
	if err != nil {
		return err
	}
	defer x.closeParent(pfd)
	var st unix.Stat_t
	exists := unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW) == nil
	isDir := exists && st.Mode&unix.S_IFMT == unix.S_IFDIR
	mode := uint32(hdr.Mode & 0o7777)
	if hdr.Typeflag == tar.TypeDir {
		if exists && !isDir {
			if err := unix.Unlinkat(pfd, base, 0); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
		if !isDir {
			if err := unix.Mkdirat(pfd, base, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
		how := beneath
		how.Flags = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC
		fd, err := openat2Retry(pfd, base, &how)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		defer unix.Close(fd)
		if uid, gid := x.owner(hdr); x.chown {
			if err := unix.Fchown(fd, uid, gid); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
		if err := unix.Fchmod(fd, mode); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		x.dirTimes = append(x.dirTimes, dirTime{name, hdr.ModTime})
		return nil
	}
	if isDir {
		return fmt.Errorf("cannot overwrite directory %q with non-directory", name)
	}
	tmp := ".strata-cp-" + randomHex(6)
	uid, gid := x.owner(hdr)
	switch hdr.Typeflag {
	case tar.TypeReg: // archive/tar reads the old TypeRegA as TypeReg
		err = x.file(pfd, tmp, tr, hdr, mode)
	case tar.TypeSymlink:
		if err = unix.Symlinkat(hdr.Linkname, pfd, tmp); err == nil && x.chown {
			err = unix.Fchownat(pfd, tmp, uid, gid, unix.AT_SYMLINK_NOFOLLOW)
		}
	case tar.TypeLink:
		err = x.link(pfd, tmp, hdr.Linkname)
	case tar.TypeChar, tar.TypeBlock:
		if x.noDevices {
			x.left = append(x.left, name)
			return nil
		}
		fallthrough
	case tar.TypeFifo:
		kind := map[byte]uint32{tar.TypeChar: unix.S_IFCHR, tar.TypeBlock: unix.S_IFBLK, tar.TypeFifo: unix.S_IFIFO}[hdr.Typeflag]
		err = unix.Mknodat(pfd, tmp, kind|mode, int(unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))))
		if err == nil && x.chown {
			err = unix.Fchownat(pfd, tmp, uid, gid, unix.AT_SYMLINK_NOFOLLOW)
		}
	default:
		return nil // what docker's extraction leaves out too (pax globals, sockets)
	}
	if err == nil && hdr.Typeflag != tar.TypeLink {
		ts := []unix.Timespec{unix.NsecToTimespec(hdr.ModTime.UnixNano()), unix.NsecToTimespec(hdr.ModTime.UnixNano())}
		err = unix.UtimesNanoAt(pfd, tmp, ts, unix.AT_SYMLINK_NOFOLLOW)
	}
	if err == nil {
		err = unix.Renameat(pfd, tmp, pfd, base)
		if errors.Is(err, unix.EISDIR) || errors.Is(err, unix.ENOTEMPTY) || errors.Is(err, unix.EEXIST) {
			err = fmt.Errorf("cannot overwrite directory %q with non-directory", name)
		}
	}
	if err != nil {
		unix.Unlinkat(pfd, tmp, 0)
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// owner is who owns what entry hdr makes: the default owner, or with
// -a the entry's own.
func (x *treeReader) owner(hdr *tar.Header) (int, int) {
	if x.keep {
		return hdr.Uid, hdr.Gid
	}
	return x.uid, x.gid
}

// file writes a regular file's content to the new name tmp of pfd.
func (x *treeReader) file(pfd int, tmp string, r io.Reader, hdr *tar.Header, mode uint32) error {
	fd, err := unix.Openat(pfd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), tmp)
	defer f.Close()
	if _, err := io.Copy(f, r); err != nil {
		return err
	}
	if x.chown {
		if err := f.Chown(x.owner(hdr)); err != nil {
			return err
		}
	}
	if x.noSetID {
		mode &^= unix.S_ISUID | unix.S_ISGID
	}
	// After chown, which clears set-user-ID bits.
	return unix.Fchmod(fd, mode)
}

// link makes tmp in pfd a hard link to the entry target made before
// (its name within the destination).
func (x *treeReader) link(pfd int, tmp, target string) error {
	name, err := cleanEntry(target)
	if err != nil || name == "" {
		return fmt.Errorf("hard link to %q: refused: it climbs out of the destination", target)
	}
	tfd, tbase, err := x.parent(name, false)
	if err != nil {
		return err
	}
	defer x.closeParent(tfd)
	return unix.Linkat(tfd, tbase, pfd, tmp, 0) // the entry, not where a link leads
}
