package layer

import (
	"archive/tar"
	"bytes"
	"errors"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// metaHow says which of the owner and mode calls a new file still needs
// once created: a file made with O_CREAT and its own permission bits
// already has them when nothing strips any (umask, a default ACL) and
// already has the unpacker's owner; skipping fchown and fchmod there
// saves two inode updates per file (issue 15).
type metaHow uint8

const (
	needChown metaHow = 1 << iota
	needChmod
	// dropACL: the entry may have taken its directory's default ACL
	// (system.posix_acl_default gives new entries an access ACL, and
	// new directories the default one too); those its header does not
	// give are removed.
	dropACL
	// exactXattrs: the entry was there already (a directory of a lower
	// layer, kept with its content); the xattrs its header does not give
	// are removed, as the layer's own directory would not have them.
	exactXattrs
	metaAll = needChown | needChmod
)

// inherit is what a directory gives the files made in it.
type inherit struct {
	gid  int  // a new file's group: the directory's if it is setgid
	acl  bool // a default ACL, or unknown: a new file's mode is not predictable
	sgid bool // setgid: a new directory is setgid too
}

// inheritOf describes the directory fd, once per fd while it is cached.
func (u *unpacker) inheritOf(fd int) (inherit, bool) {
	if in, ok := u.inherits[fd]; ok {
		return in, true
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return inherit{}, false
	}
	in := inherit{gid: u.gid, acl: true}
	if st.Mode&unix.S_ISGID != 0 {
		in.gid, in.sgid = int(st.Gid), true
	}
	if _, err := unix.Fgetxattr(fd, "system.posix_acl_default", nil); errors.Is(err, unix.ENODATA) || errors.Is(err, unix.EOPNOTSUPP) {
		in.acl = false
	}
	u.inherits[fd] = in
	return in, true
}

// forget drops what is known of the directory fd: it is being closed,
// or its mode or xattrs are being set.
func (u *unpacker) forget(fd int) { delete(u.inherits, fd) }

// createHow is what a regular file of hdr, just created in the directory
// pfd with mode hdr.Mode&0o777, still needs.
func (u *unpacker) createHow(pfd int, hdr *tar.Header) metaHow {
	in, ok := u.inheritOf(pfd)
	if !ok {
		return metaAll | dropACL
	}
	how := metaAll
	if in.acl {
		how |= dropACL
	}
	if hdr.Uid == u.uid && hdr.Gid == in.gid {
		how &^= needChown
	}
	perm := int64(hdr.Mode) & 0o7777
	if !in.acl && u.umask >= 0 && perm&0o7000 == 0 && perm&u.umask == 0 {
		how &^= needChmod
	}
	return how
}

// dirHow is createHow for a directory of hdr made in pfd with mode
// hdr.Mode&0o777: it also inherits the setgid bit of pfd.
func (u *unpacker) dirHow(pfd int, hdr *tar.Header) metaHow {
	how := u.createHow(pfd, hdr)
	if in, ok := u.inheritOf(pfd); !ok || in.sgid {
		how |= needChmod
	}
	return how
}

// owned says whether an entry just made in pfd (by mknodat, symlinkat)
// already has hdr's owner.
func (u *unpacker) owned(pfd int, hdr *tar.Header) bool {
	in, ok := u.inheritOf(pfd)
	return ok && hdr.Uid == u.uid && hdr.Gid == in.gid
}

// processUmask reads the umask from /proc/self/status (reading it with
// umask(2) would change it for a moment, for every thread); -1 if unknown.
func processUmask() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("Umask:")); ok {
			m, err := strconv.ParseInt(string(bytes.TrimSpace(v)), 8, 32)
			if err != nil {
				return -1
			}
			return m
		}
	}
	return -1
}
