package layer

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// longPath names a file at a path of exactly n bytes, of directories of
// at most 200 bytes a name.
func longPath(t *testing.T, n int) []string {
	t.Helper()
	var parts []string
	for left := n; left > 0; {
		k := min(200, left)
		if left-k == 1 { // the next name needs a byte besides its slash
			k--
		}
		parts = append(parts, strings.Repeat("d", k))
		left -= k + 1
	}
	if rel := strings.Join(parts, "/"); len(rel) != n {
		t.Fatalf("made a path of %d bytes, want %d", len(rel), n)
	}
	return parts
}

// openDirs opens dir's subdirectory along parts, a name at a time (the
// whole path is too long for one call), making them with mkdir.
func openDirs(t *testing.T, dir string, parts []string, mkdir bool) int {
	t.Helper()
	fd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		if mkdir {
			if err := unix.Mkdirat(fd, p, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		next, err := unix.Openat(fd, p, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
		unix.Close(fd)
		if err != nil {
			t.Fatal(err)
		}
		fd = next
	}
	return fd
}

// TestPathLengthBound: a path of MaxPath bytes is written and unpacked; one
// byte more is refused when the layer is written (a commit), naming the
// path's start, rather than stored in a commit no checkout can unpack,
// which left the work tree stuck.
func TestPathLengthBound(t *testing.T) {
	requireRoot(t)
	for _, n := range []int{MaxPath, MaxPath + 1} {
		src := t.TempDir()
		parts := longPath(t, n)
		fd := openDirs(t, src, parts[:len(parts)-1], true)
		f, err := unix.Openat(fd, parts[len(parts)-1], unix.O_CREAT|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
		unix.Close(fd)
		if err != nil {
			t.Fatal(err)
		}
		unix.Write(f, []byte("deep"))
		unix.Close(f)
		if n > MaxPath {
			_, err := WriteTar(context.Background(), src, io.Discard, WriteOptions{})
			if !errors.Is(err, ErrPathTooLong) || !strings.Contains(err.Error(), ": /"+strings.Repeat("d", 64)+"...: a path of 4096 bytes: longer than the 4095 bytes") {
				t.Fatalf("write of a path of %d bytes: %v", n, err)
			}
			continue
		}
		blob, _ := create(t, src, WriteOptions{})
		dst := t.TempDir()
		unpack(t, blob, dst, Apply)
		fd = openDirs(t, dst, parts[:len(parts)-1], false)
		var b [8]byte
		f, err = unix.Openat(fd, parts[len(parts)-1], unix.O_RDONLY|unix.O_CLOEXEC, 0)
		unix.Close(fd)
		if err != nil {
			t.Fatalf("the file at %d bytes was not unpacked: %v", n, err)
		}
		k, _ := unix.Read(f, b[:])
		unix.Close(f)
		if string(b[:k]) != "deep" {
			t.Fatalf("unpacked %q", b[:k])
		}
	}
}

// TestUnpackRefusesOverlongPath: a tar made elsewhere (an import, a pulled
// layer) with a path of MaxPath+1 bytes is refused when unpacked, with
// ErrPathTooLong and an error that quotes only the path's start, not
// with the kernel's ENAMETOOLONG and the whole path twice (11 KB).
func TestUnpackRefusesOverlongPath(t *testing.T) {
	requireRoot(t)
	for _, n := range []int{MaxPath, MaxPath + 1} {
		rel := strings.Join(longPath(t, n), "/")
		var hdrs []*tar.Header
		for i, c := range rel {
			if c == '/' {
				hdrs = append(hdrs, &tar.Header{Name: rel[:i], Typeflag: tar.TypeDir, Mode: 0o755, Format: tar.FormatPAX})
			}
		}
		hdrs = append(hdrs, &tar.Header{Name: rel, Typeflag: tar.TypeReg, Mode: 0o644, Size: 4, Format: tar.FormatPAX})
		unpackEachWay(t, tarOf(t, hdrs...), func(how, dir string, err error) {
			if n <= MaxPath {
				if err != nil {
					t.Fatalf("%s: a path of %d bytes: %v", how, n, err)
				}
				return
			}
			if !errors.Is(err, ErrPathTooLong) {
				t.Fatalf("%s: a path of %d bytes: %v, want %v", how, n, err, ErrPathTooLong)
			}
			if msg := err.Error(); len(msg) > 400 || !strings.Contains(msg, fmt.Sprintf("... (%d bytes)", n)) {
				t.Fatalf("%s: error of %d bytes: %s", how, len(msg), msg)
			}
		})
	}
}
