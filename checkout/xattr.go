package checkout

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/zeebo/blake3"
	"golang.org/x/sys/unix"
)

// xattrDigest returns the file index's digest of p's extended attributes,
// leaving out overlayfs's own, as the layer writer does; "" if none.
func xattrDigest(p string, buf []byte) (string, error) {
	n, err := unix.Llistxattr(p, buf)
	if errors.Is(err, unix.ERANGE) {
		if n, err = unix.Llistxattr(p, nil); err == nil {
			buf = make([]byte, n*2)
			n, err = unix.Llistxattr(p, buf)
		}
	}
	if errors.Is(err, unix.ENOTSUP) || n == 0 {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("list xattrs of %s: %w", p, err)
	}
	var names []string
	for _, name := range strings.Split(strings.TrimRight(string(buf[:n]), "\x00"), "\x00") {
		if !strings.HasPrefix(name, "trusted.overlay.") && !strings.HasPrefix(name, "user.overlay.") {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return "", nil
	}
	slices.Sort(names)
	h := blake3.New()
	for _, name := range names {
		v, err := getxattr(p, name)
		if errors.Is(err, unix.ENODATA) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("read xattr %s of %s: %w", name, p, err)
		}
		h.WriteString(name)
		h.Write([]byte{0})
		h.Write(v)
		h.Write([]byte{0})
	}
	return "blake3:" + hex.EncodeToString(h.Sum(nil)), nil
}

func getxattr(p, name string) ([]byte, error) {
	buf := make([]byte, 256)
	for {
		n, err := unix.Lgetxattr(p, name, buf)
		if errors.Is(err, unix.ERANGE) {
			buf = make([]byte, len(buf)*4)
			continue
		}
		if err != nil {
			return nil, err
		}
		return buf[:n], nil
	}
}

// overlayXattr reads one of overlayfs's xattrs on an upper entry.
func overlayXattr(p, name string) (string, bool) {
	v, err := getxattr(p, "trusted.overlay."+name)
	if err != nil {
		return "", false
	}
	return string(v), true
}

// fileDigest is the file index's content digest of a regular file.
func fileDigest(p string) (string, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := blake3.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", p, err)
	}
	return "blake3:" + hex.EncodeToString(h.Sum(nil)), nil
}
