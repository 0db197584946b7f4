package build

import (
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/zeebo/blake3"
	"golang.org/x/sys/unix"
)

// copyXattrs gives the file dst the extended attributes of src, as a
// COPY written straight from the context keeps them in its layer, and
// as docker's COPY keeps them: file capabilities, ACLs, user.*. The
// names of overlayfs (trusted.overlay.*) are not the file's. A file
// system that takes none of a kind (EOPNOTSUPP) is passed over, as
// buildkit does. It returns the digest of src's xattrs as the layer's
// file index writes it ("blake3:…" of the sorted names and values; ""
// for none), for the step's key. dst < 0 copies nothing.
func copyXattrs(src, dst int) (string, error) {
	names, err := listXattrs(src)
	if err != nil || len(names) == 0 {
		return "", err
	}
	sort.Strings(names)
	var h *blake3.Hasher
	for _, name := range names {
		if strings.HasPrefix(name, "trusted.overlay.") {
			continue
		}
		v, err := getXattr(src, name)
		if errors.Is(err, unix.ENODATA) {
			continue // removed meanwhile
		}
		if err != nil {
			return "", fmt.Errorf("read xattr %s: %w", name, err)
		}
		if h == nil {
			h = blake3.New()
		}
		h.WriteString(name)
		h.Write([]byte{0})
		h.Write(v)
		h.Write([]byte{0})
		if dst < 0 {
			continue
		}
		if err := unix.Fsetxattr(dst, name, v, 0); err != nil && !errors.Is(err, unix.EOPNOTSUPP) {
			return "", fmt.Errorf("set xattr %s: %w", name, err)
		}
	}
	if h == nil {
		return "", nil
	}
	return "blake3:" + hex.EncodeToString(h.Sum(nil)), nil
}

func listXattrs(fd int) ([]string, error) {
	buf := make([]byte, 256)
	for range 8 { // the list can grow between the two calls
		n, err := unix.Flistxattr(fd, buf)
		if errors.Is(err, unix.ERANGE) {
			if n, err = unix.Flistxattr(fd, nil); err != nil {
				return nil, fmt.Errorf("list xattrs: %w", err)
			}
			buf = make([]byte, n+256)
			continue
		}
		if errors.Is(err, unix.EOPNOTSUPP) || n == 0 {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("list xattrs: %w", err)
		}
		return strings.Split(strings.TrimRight(string(buf[:n]), "\x00"), "\x00"), nil
	}
	return nil, fmt.Errorf("list xattrs: %w", unix.ERANGE)
}

func getXattr(fd int, name string) ([]byte, error) {
	buf := make([]byte, 256)
	for range 8 { // the value can grow between the two calls
		n, err := unix.Fgetxattr(fd, name, buf)
		if errors.Is(err, unix.ERANGE) {
			if n, err = unix.Fgetxattr(fd, name, nil); err != nil {
				return nil, err
			}
			buf = make([]byte, n+256)
			continue
		}
		if err != nil {
			return nil, err
		}
		return buf[:n], nil
	}
	return nil, unix.ERANGE
}
