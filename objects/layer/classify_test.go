package layer

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestOverlayXattrsAreContent: in an upper, only the mount's own
// trusted.overlay.* markers mean opaque or redirect; user.overlay.* and
// the escaped trusted.overlay.overlay.* travel as content, and unpacked
// into a lower they stay inert, while a layer's trusted.overlay.* is
// dropped.
func TestOverlayXattrsAreContent(t *testing.T) {
	requireRoot(t)
	upper := t.TempDir()
	for _, d := range []string{"own", "user", "escaped", "redir"} {
		if err := os.Mkdir(filepath.Join(upper, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	set := func(p, name, v string) {
		if err := unix.Lsetxattr(filepath.Join(upper, p), name, []byte(v), 0); err != nil {
			t.Fatal(err)
		}
	}
	set("own", "trusted.overlay.opaque", "y")
	set("user", "user.overlay.opaque", "y")
	set("escaped", "trusted.overlay.overlay.opaque", "y")
	set("redir", "user.overlay.redirect", "/own")

	var buf bytes.Buffer
	entries, err := WriteTar(context.Background(), upper, &buf, WriteOptions{Overlay: true})
	if err != nil {
		t.Fatal(err)
	}
	opaque := map[string]bool{}
	for _, e := range entries {
		if e.Type == TypeOpaque {
			opaque[e.Path] = true
		}
	}
	if !opaque["/own"] {
		t.Errorf("the mount's own trusted.overlay.opaque did not make /own opaque: %v", entries)
	}
	for _, p := range []string{"/user", "/escaped", "/redir"} {
		if opaque[p] {
			t.Errorf("%s: a content xattr made it opaque", p)
		}
	}
	recs := map[string]map[string]string{}
	tr := tar.NewReader(bytes.NewReader(buf.Bytes()))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		recs[strings.TrimSuffix(hdr.Name, "/")] = hdr.PAXRecords
	}
	want := map[string]string{"user": "user.overlay.opaque", "escaped": "trusted.overlay.overlay.opaque", "redir": "user.overlay.redirect"}
	for p, x := range want {
		if recs[p][paxXattr+x] == "" {
			t.Errorf("%s: xattr %s not stored as content (%v)", p, x, recs[p])
		}
	}
	for k := range recs["own"] {
		if strings.HasPrefix(k, paxXattr+"trusted.overlay.") {
			t.Errorf("own: overlay's own xattr %s stored in the layer", k)
		}
	}

	// Unpacked as an overlay lower: content xattrs as they are, a
	// layer's trusted.overlay.opaque never.
	lower := t.TempDir()
	tw := craftXattrs(t, map[string]string{
		"a/": "trusted.overlay.opaque", "b/": "user.overlay.opaque", "c/": "trusted.overlay.overlay.opaque",
	})
	if err := Unpack(context.Background(), bytes.NewReader(tw), lower, ToOverlayLower); err != nil {
		t.Fatal(err)
	}
	has := func(p, name string) bool {
		_, err := unix.Lgetxattr(filepath.Join(lower, p), name, nil)
		return err == nil
	}
	if has("a", "trusted.overlay.opaque") {
		t.Errorf("a layer's trusted.overlay.opaque made a lower directory opaque")
	}
	if !has("b", "user.overlay.opaque") || !has("c", "trusted.overlay.overlay.opaque") {
		t.Errorf("content overlay xattrs lost at unpack")
	}
}

func craftXattrs(t *testing.T, dirs map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, x := range dirs {
		hdr := &tar.Header{Name: name, Typeflag: tar.TypeDir, Mode: 0o755, Format: tar.FormatPAX,
			PAXRecords: map[string]string{paxXattr + x: "y"}}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestReservedNames: a ".wh." name cannot be written into a layer, from
// an upper or a plain tree; the error names it as the tree shows it.
func TestReservedNames(t *testing.T) {
	for _, overlay := range []bool{true, false} {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "etc"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "etc", ".wh.passwd"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := WriteTar(context.Background(), dir, io.Discard, WriteOptions{Overlay: overlay})
		if !errors.Is(err, ErrReservedName) || !strings.Contains(err.Error(), "/etc/.wh.passwd") {
			t.Errorf("overlay=%v: %v, want ErrReservedName naming /etc/.wh.passwd", overlay, err)
		}
	}
}

// TestDirOpenFile: the host opens only regular files of a tree, never
// through a symlink, never blocking on a FIFO, never a device.
func TestDirOpenFile(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "secret")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(outside, []byte("secret"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "ok"), []byte("ok"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "big"), make([]byte, 2048), 0o644))
	must(os.Symlink(outside, filepath.Join(dir, "link")))
	must(unix.Mkfifo(filepath.Join(dir, "fifo"), 0o644))
	must(unix.Mknod(filepath.Join(dir, "null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))
	must(os.Mkdir(filepath.Join(dir, "sub"), 0o755))
	must(os.Symlink(filepath.Dir(outside), filepath.Join(dir, "sublink")))
	for _, open := range []struct {
		name string
		open func(string) (*Dir, error)
	}{{"OpenDir", OpenDir}, {"OpenDirForRead", OpenDirForRead}} {
		t.Run(open.name, func(t *testing.T) {
			d, err := open.open(dir)
			must(err)
			defer d.Close()
			checkOpenFile(t, d)
		})
	}
}

func checkOpenFile(t *testing.T, d *Dir) {
	if b, err := d.ReadSmallFile("ok", 1024); err != nil || string(b) != "ok" {
		t.Errorf("ok: %q %v", b, err)
	}
	if _, err := d.ReadSmallFile("big", 1024); !errors.Is(err, ErrTooLarge) {
		t.Errorf("big: %v, want ErrTooLarge", err)
	}
	for _, name := range []string{"link", "fifo", "null", "sub"} {
		if _, err := d.ReadSmallFile(name, 1024); !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v, want ErrNotRegular naming it", name, err)
		}
	}
	if _, err := d.Sub("sublink", nil); !errors.Is(err, ErrFileChanged) {
		t.Errorf("Sub of a symlink: %v, want ErrFileChanged", err)
	}
	if _, err := d.OpenBeneath("sublink/x"); err == nil {
		t.Errorf("OpenBeneath followed a symlink")
	}
}

// TestOpenDirForReadMount: as root, OpenDirForRead reads through a private
// mount on which a device cannot be opened at all (not merely refused
// after the open) and nothing can be written; closing it leaves nothing
// mounted.
func TestOpenDirForReadMount(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ok"), []byte("ok"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mknod(filepath.Join(dir, "null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	d, err := OpenDirForRead(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !d.noDev {
		d.Close()
		t.Fatal("OpenDirForRead as root did not get its private mount")
	}
	if fd, err := unix.Openat(d.fd, "null", unix.O_RDONLY|unix.O_CLOEXEC, 0); !errors.Is(err, unix.EACCES) {
		unix.Close(fd)
		t.Errorf("open of a device below OpenDirForRead: %v, want EACCES (nodev)", err)
	}
	if fd, err := unix.Openat(d.fd, "ok", unix.O_WRONLY|unix.O_CLOEXEC, 0); !errors.Is(err, unix.EROFS) {
		unix.Close(fd)
		t.Errorf("open for writing below OpenDirForRead: %v, want EROFS", err)
	}
	if _, err := d.ReadSmallFile("null", 1024); !errors.Is(err, ErrNotRegular) {
		t.Errorf("null: %v, want ErrNotRegular", err)
	}
	d.Close()
	after, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	if string(before) != string(after) {
		t.Errorf("mount table changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// TestOpenDirForReadSubmount: a mount below the tree is read through, as a
// plain walk would, and is nodev on the private clone too.
func TestOpenDirForReadSubmount(t *testing.T) {
	requireRoot(t)
	dir, other := t.TempDir(), t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, "f"), []byte("below a mount"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mknod(filepath.Join(other, "null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(other, filepath.Join(dir, "sub"), "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(filepath.Join(dir, "sub"), unix.MNT_DETACH) })
	d, err := OpenDirForRead(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	sub, err := d.Sub("sub", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if b, err := sub.ReadSmallFile("f", 1024); err != nil || string(b) != "below a mount" {
		t.Errorf("f below a mount: %q, %v", b, err)
	}
	if fd, err := unix.Openat(sub.fd, "null", unix.O_RDONLY|unix.O_CLOEXEC, 0); !errors.Is(err, unix.EACCES) {
		unix.Close(fd)
		t.Errorf("open of a device on a submount: %v, want EACCES (nodev)", err)
	}
}
