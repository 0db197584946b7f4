package image

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"
)

// What an image file or a remote may make strata hold in memory. A blob
// streamed to disk (a layer) is bounded by its descriptor's size instead.
const (
	// MaxManifestSize caps a manifest, an image index and a layout's
	// index.json: containerd's choice for manifests.
	MaxManifestSize = 4 << 20
	// MaxConfigSize caps an image config, which is decoded whole. The
	// largest configs seen in practice (hundreds of history entries, long
	// Env lists) are a few hundred KiB; 8 MiB leaves twenty times that
	// while a hostile descriptor cannot make strata buffer gigabytes.
	MaxConfigSize = 8 << 20
	// maxLayoutFileSize caps an oci-layout file (a one-field JSON).
	maxLayoutFileSize = 64 << 10
)

// sizedReader reads exactly size bytes: it fails at the first byte past
// size and at an end before size, so a remote that lies about a blob's
// size (or sends an endless body) cannot fill the disk.
type sizedReader struct {
	r    io.Reader
	left int64
	size int64
}

func ExactSize(r io.Reader, size int64) io.Reader {
	return &sizedReader{r: r, left: size, size: size}
}

func (s *sizedReader) Read(p []byte) (int, error) {
	if s.left <= 0 {
		// At the size: anything more means the blob lies about its size.
		var b [1]byte
		for {
			n, err := s.r.Read(b[:])
			if n > 0 {
				return 0, fmt.Errorf("longer than its descriptor's %d bytes: %w", s.size, ErrBadImage)
			}
			if err == io.EOF {
				return 0, io.EOF
			}
			if err != nil {
				return 0, err
			}
		}
	}
	if int64(len(p)) > s.left {
		p = p[:s.left]
	}
	n, err := s.r.Read(p)
	s.left -= int64(n)
	if err == io.EOF {
		if s.left > 0 {
			return n, fmt.Errorf("ended after %d of its descriptor's %d bytes: %w", s.size-s.left, s.size, ErrBadImage)
		}
		err = nil // the next Read checks that nothing follows
	}
	return n, err
}

type sizedReadCloser struct {
	io.Reader
	io.Closer
}

func ExactSizeCloser(rc io.ReadCloser, size int64) io.ReadCloser {
	return sizedReadCloser{ExactSize(rc, size), rc}
}

// CheckDescSize refuses a descriptor whose size is negative, or above what
// strata holds in memory for its kind.
func CheckDescSize(d ocispec.Descriptor, what string, limit int64) error {
	if d.Size < 0 {
		return fmt.Errorf("%s %s: negative size %d: %w", what, short(d.Digest), d.Size, ErrBadImage)
	}
	if limit > 0 && d.Size > limit {
		return fmt.Errorf("%s %s: %d bytes, more than the %d MiB strata accepts: %w", what, short(d.Digest), d.Size, limit>>20, ErrBadImage)
	}
	return nil
}

// readCapped reads all of r, failing if it holds more than limit bytes.
func readCapped(r io.Reader, limit int64, what string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: more than %s: %w", what, CapText(limit), ErrBadImage)
	}
	return b, nil
}

func CapText(limit int64) string {
	if limit >= 1<<20 {
		return fmt.Sprintf("%d MiB", limit>>20)
	}
	return fmt.Sprintf("%d KiB", limit>>10)
}

// OpenRegular opens a file of an image layout for reading. It must be a
// regular file: a FIFO would block, a device would never end. O_NONBLOCK
// makes the open of a FIFO return at once so that it can be refused.
func OpenRegular(p string) (*os.File, error) {
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: p, Err: err}
	}
	return Regular(os.NewFile(uintptr(fd), p))
}

// Regular is f, opened as OpenRegular opens a file, if it is a regular
// file; else it closes f and fails.
func Regular(f *os.File) (*os.File, error) {
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: not a regular file: %w", f.Name(), ErrBadImage)
	}
	return f, nil
}

// ReadCapped reads the layout file f whole, at most limit bytes, and
// closes it.
func ReadCapped(f *os.File, limit int64) ([]byte, error) {
	defer f.Close()
	return readCapped(f, limit, filepath.Base(f.Name()))
}

// CheckLayoutVersion refuses an OCI image layout whose oci-layout file,
// open as f (which it closes), names a version other than the one strata
// reads. The caller's error names the directory.
func CheckLayoutVersion(f *os.File) error {
	b, err := ReadCapped(f, maxLayoutFileSize)
	if err != nil {
		return err
	}
	return checkLayoutVersion(b)
}

// checkLayoutVersion checks the content of an oci-layout file.
func checkLayoutVersion(b []byte) error {
	var l ocispec.ImageLayout
	if err := json.Unmarshal(b, &l); err != nil {
		return fmt.Errorf("oci-layout: %w: %v", ErrBadImage, err)
	}
	if l.Version != ocispec.ImageLayoutVersion {
		return fmt.Errorf("OCI image layout version %q is unknown (strata reads %q)", l.Version, ocispec.ImageLayoutVersion)
	}
	return nil
}
