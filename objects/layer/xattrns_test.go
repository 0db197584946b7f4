package layer

import (
	"archive/tar"
	"bytes"
	"context"
	"path/filepath"
	"testing"
)

// An xattr no Linux file can hold there (macOS's com.apple.*, which its
// tar writes; user.* on a symlink, a device or a FIFO) is left out, by
// the unpack and by the index alike, as docker's and podman's unpacks
// skip it: checkout failed, "operation not supported". The others stay.
func TestUnsettableXattrsLeftOut(t *testing.T) {
	requireRoot(t)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mac := map[string]string{"SCHILY.xattr.com.apple.provenance": "x", "SCHILY.xattr.user.keep": "1"}
	tw.WriteHeader(&tar.Header{Name: "f", Typeflag: tar.TypeReg, Mode: 0o644, Size: 2, PAXRecords: mac, Format: tar.FormatPAX})
	tw.Write([]byte("f\n"))
	tw.WriteHeader(&tar.Header{Name: "s", Typeflag: tar.TypeSymlink, Linkname: "f", Mode: 0o777, Format: tar.FormatPAX,
		PAXRecords: map[string]string{"SCHILY.xattr.user.foo": "bar", "SCHILY.xattr.trusted.keep": "1"}})
	tw.WriteHeader(&tar.Header{Name: "p", Typeflag: tar.TypeFifo, Mode: 0o644, Format: tar.FormatPAX,
		PAXRecords: map[string]string{"SCHILY.xattr.user.foo": "bar"}})
	tw.Close()
	want := map[string]string{
		"/f": xattrDigest([]xattr{{"user.keep", "1"}}),
		"/s": xattrDigest([]xattr{{"trusted.keep", "1"}}),
		"/p": "",
	}
	_, indexed, err := Index(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []UnpackMode{Apply, ToOverlayLower} {
		dir := t.TempDir()
		if err := Unpack(context.Background(), bytes.NewReader(buf.Bytes()), dir, mode); err != nil {
			t.Fatalf("mode %d: %v", mode, err)
		}
		for _, e := range indexed {
			xs, err := lxattrs(filepath.Join(dir, e.Path), make([]byte, 4096))
			if err != nil {
				t.Fatal(err)
			}
			if got := xattrDigest(xs); got != want[e.Path] || e.Xattrs != want[e.Path] {
				t.Errorf("mode %d: %s has xattrs %v (digest %q), the index says %q, want %q", mode, e.Path, xs, got, e.Xattrs, want[e.Path])
			}
		}
	}
}
