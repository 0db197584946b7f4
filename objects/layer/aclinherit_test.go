package layer

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// defaultACL is a system.posix_acl_default value: owner rwx, user 1000
// rwx, group r-x, mask rwx, other r-x.
func defaultACL() string {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint32(2))
	for _, e := range []struct {
		tag, perm uint16
		id        uint32
	}{{1, 7, ^uint32(0)}, {2, 7, 1000}, {4, 5, ^uint32(0)}, {0x10, 7, ^uint32(0)}, {0x20, 5, ^uint32(0)}} {
		binary.Write(&b, binary.LittleEndian, e)
	}
	return b.String()
}

// An unpacked entry has the xattrs its layer gives it and no others:
// not the ACLs a directory's default ACL gives what is made in it (a
// file of that directory gained an access ACL its layer does not hold,
// which a copy-up then committed), and, for a directory kept from a
// layer below (a flattened prefix), not the xattrs that layer gave it (a
// removed xattr came back once the history was deep enough to flatten).
func TestUnpackGivesOnlyTheLayersXattrs(t *testing.T) {
	requireRoot(t)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, typ byte, mode int64, recs map[string]string) {
		hdr := &tar.Header{Name: name, Typeflag: typ, Mode: mode, ModTime: time.Unix(1700000000, 0), PAXRecords: recs, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
	}
	add("acl/", tar.TypeDir, 0o755, map[string]string{paxXattr + "system.posix_acl_default": defaultACL()})
	add("acl/file", tar.TypeReg, 0o644, nil)
	add("acl/dir/", tar.TypeDir, 0o755, nil)
	add("acl/fifo", tar.TypeFifo, 0o644, nil)
	add("kept/", tar.TypeDir, 0o755, map[string]string{paxXattr + "user.b": "2"})
	tw.Close()
	for _, mode := range []UnpackMode{Apply, ToOverlayLower} {
		dst := t.TempDir()
		// What a layer below left: a directory with xattrs this layer's lacks.
		kept := filepath.Join(dst, "kept")
		if err := os.Mkdir(kept, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, v := range map[string]string{"user.a": "1", "system.posix_acl_default": defaultACL()} {
			if err := unix.Setxattr(kept, name, []byte(v), 0); err != nil {
				t.Fatal(err)
			}
		}
		if err := Unpack(context.Background(), bytes.NewReader(buf.Bytes()), dst, mode); err != nil {
			t.Fatalf("mode %v: %v", mode, err)
		}
		for name, want := range map[string][]string{
			"acl":      {"system.posix_acl_default"},
			"acl/file": nil,
			"acl/dir":  nil,
			"acl/fifo": nil,
			"kept":     {"user.b"},
		} {
			got, err := xattrNames(filepath.Join(dst, name))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("mode %v: %s has xattrs %q, want %q", mode, name, got, want)
			}
		}
		if fi, err := os.Stat(filepath.Join(dst, "acl/file")); err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("mode %v: acl/file is %v (%v), want 0644", mode, fi.Mode(), err)
		}
	}
}

func xattrNames(p string) ([]string, error) {
	buf := make([]byte, 4096)
	n, err := unix.Llistxattr(p, buf)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, b := range bytes.Split(buf[:n], []byte{0}) {
		if s := string(b); s != "" && s != "security.selinux" {
			names = append(names, s)
		}
	}
	return names, nil
}
