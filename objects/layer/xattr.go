package layer

import (
	"archive/tar"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/zeebo/blake3"
	"golang.org/x/sys/unix"
)

const paxXattr = "SCHILY.xattr."

type xattr struct{ name, value string }

// overlayPrivate reports whether an xattr belongs to overlayfs itself and
// must never travel in a layer: it would steer a later overlay mount.
// strata mounts as root without userxattr, so only trusted.overlay.* is
// overlayfs's. A container that sets trusted.overlay.X through the mount
// gets it stored escaped, as trusted.overlay.overlay.X (Linux 6.7+): that
// is content, and so is user.overlay.*; unpacked into a lower they stay
// inert (the mount shows the escaped one as trusted.overlay.X again).
func overlayPrivate(name string) bool {
	return strings.HasPrefix(name, "trusted.overlay.") && !strings.HasPrefix(name, "trusted.overlay.overlay.")
}

// unpackedXattrs is the xattrs xs of an entry of tar type typ that an
// unpack gives it (settable): those a checkout shows.
func unpackedXattrs(xs []xattr, typ byte) []xattr {
	out := xs[:0:0]
	for _, x := range xs {
		if settable(x.name, typ) {
			out = append(out, x)
		}
	}
	return out
}

// settable says whether an unpack gives an entry of tar type typ the
// xattr name: not overlayfs's own (overlayPrivate), and one Linux can
// hold there on any file system. A name outside Linux's namespaces
// (macOS's com.apple.*, which its tar writes) is EOPNOTSUPP everywhere,
// and user.* is EPERM on a symlink, a device or a FIFO; docker's and
// podman's unpacks skip both too. The index leaves them out alike.
func settable(name string, typ byte) bool {
	ns, _, _ := strings.Cut(name, ".")
	switch ns {
	case "security", "system":
		return true
	case "trusted":
		return !overlayPrivate(name)
	case "user":
		return typ != tar.TypeSymlink && typ != tar.TypeChar && typ != tar.TypeBlock && typ != tar.TypeFifo
	}
	return false
}

// lxattrs returns the extended attributes of path (not following a final
// symlink), sorted by name.
func lxattrs(path string, buf []byte) ([]xattr, error) {
	n, err := unix.Llistxattr(path, buf)
	if errors.Is(err, unix.ERANGE) {
		n, err = unix.Llistxattr(path, nil)
		if err == nil {
			buf = make([]byte, n*2)
			n, err = unix.Llistxattr(path, buf)
		}
	}
	if errors.Is(err, unix.ENOTSUP) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list xattrs: %w", err)
	}
	if n == 0 {
		return nil, nil
	}
	var out []xattr
	for _, name := range strings.Split(strings.TrimRight(string(buf[:n]), "\x00"), "\x00") {
		v, err := lgetxattr(path, name)
		if errors.Is(err, unix.ENODATA) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("read xattr %s: %w", name, err)
		}
		out = append(out, xattr{name, v})
	}
	slices.SortFunc(out, func(a, b xattr) int { return strings.Compare(a.name, b.name) })
	return out, nil
}

func lgetxattr(path, name string) (string, error) {
	buf := make([]byte, 256)
	for {
		n, err := unix.Lgetxattr(path, name, buf)
		if errors.Is(err, unix.ERANGE) {
			buf = make([]byte, len(buf)*4)
			continue
		}
		if err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	}
}

// xattrDigest summarises a sorted xattr list for the file index, so that
// an xattr change shows up in a diff.
func xattrDigest(xs []xattr) string {
	if len(xs) == 0 {
		return ""
	}
	h := blake3.New()
	for _, x := range xs {
		h.WriteString(x.name)
		h.Write([]byte{0})
		h.WriteString(x.value)
		h.Write([]byte{0})
	}
	return "blake3:" + hex.EncodeToString(h.Sum(nil))
}

// paxXattrs extracts the xattrs carried by a tar header's PAX records,
// sorted by name.
func paxXattrs(recs map[string]string) []xattr {
	var out []xattr
	for k, v := range recs {
		if name, ok := strings.CutPrefix(k, paxXattr); ok {
			out = append(out, xattr{name, v})
		}
	}
	slices.SortFunc(out, func(a, b xattr) int { return strings.Compare(a.name, b.name) })
	return out
}

// The ACLs a directory's default ACL gives the entries made in it.
const (
	aclAccess  = "system.posix_acl_access"
	aclDefault = "system.posix_acl_default"
)

// dropXattrs removes from fd, an entry just made or kept by an unpack,
// the xattrs its header (xs) does not give and it may have anyway, as
// how says: an ACL taken from its directory (dropACL), or whatever a
// kept directory held (exactXattrs), overlayfs's own and security.*
// aside: the security module labels every new entry (security.selinux,
// security.SMACK64), and a directory holds no file capability. So an unpack makes an
// entry as its layer holds it, whether or not the directory it lands
// in came from a layer below (a flattened prefix) or has a default ACL.
func dropXattrs(fd int, xs []xattr, isDir bool, how metaHow) error {
	var names []string
	switch {
	case how&exactXattrs != 0:
		var err error
		if names, err = listXattrsFD(fd); err != nil {
			return err
		}
	case how&dropACL != 0:
		names = []string{aclAccess}
		if isDir {
			names = append(names, aclDefault)
		}
	default:
		return nil
	}
	for _, name := range names {
		if hasXattr(xs, name) || overlayPrivate(name) || strings.HasPrefix(name, "security.") {
			continue
		}
		if err := unix.Fremovexattr(fd, name); err != nil && !noXattr(err) {
			return fmt.Errorf("remove xattr %s: %w", name, err)
		}
	}
	return nil
}

// listXattrsFD lists the names of fd's xattrs.
func listXattrsFD(fd int) ([]string, error) {
	buf := make([]byte, 1024)
	for {
		n, err := unix.Flistxattr(fd, buf)
		if errors.Is(err, unix.ERANGE) {
			buf = make([]byte, 2*len(buf))
			continue
		}
		if noXattr(err) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("list xattrs: %w", err)
		}
		var names []string
		for _, b := range bytes.Split(buf[:n], []byte{0}) {
			if len(b) > 0 {
				names = append(names, string(b))
			}
		}
		return names, nil
	}
}

func hasXattr(xs []xattr, name string) bool {
	return slices.ContainsFunc(xs, func(x xattr) bool { return x.name == name })
}

// noXattr: the entry has no such xattr, or its file system none at all.
func noXattr(err error) bool {
	return errors.Is(err, unix.ENODATA) || errors.Is(err, unix.EOPNOTSUPP)
}
