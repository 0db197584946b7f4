package objects

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"syscall"

	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"
)

// readVerified reads blob d whole into buf (grown as needed) and checks it
// against its digest. It uses plain system calls: os.Open registers every
// file with the poller and sets its flags, five calls more a blob, which
// is most of the cost of reading a small one (log and fsck read one or
// two per commit).
//
// toEOF false ends the read once a short read leaves content that
// matches the digest, without the read that would return EOF: one system
// call in four of a small blob, for log's walk. Bytes after a valid blob
// would then go unseen only if a read ended exactly where the valid
// content does; a local filesystem returns all of a small file to one
// read. fsck's ReadBlob reads to EOF all the same.
func (s *Store) readVerified(d digest.Digest, buf []byte, toEOF bool) ([]byte, error) {
	if err := validate(d); err != nil {
		return nil, fmt.Errorf("blob %q: %w", d, err)
	}
	var whole func([]byte) bool
	checked := false // whole found b to match
	if !toEOF {
		whole = func(b []byte) bool { checked = matches(d, b); return checked }
	}
	b, err := s.readBlobFile(d, buf, whole)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("blob %s: %w", d, ErrNotFound)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Op == "open" {
		return nil, err // as Open reports it
	}
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", d, err)
	}
	if !checked && !matches(d, b) {
		return nil, fmt.Errorf("read blob %s: blob %s: %w", d, d, ErrDigestMismatch)
	}
	return b, nil
}

// matches reports whether b has digest d.
func matches(d digest.Digest, b []byte) bool {
	if d.Algorithm() == digest.SHA256 {
		sum := sha256.Sum256(b)
		return hex.EncodeToString(sum[:]) == d.Encoded()
	}
	return d.Algorithm().FromBytes(b) == d
}

// ReadFile reads the file at path whole, appending to buf[:0]; see
// readVerified for why not os.ReadFile.
func ReadFile(path string, buf []byte) ([]byte, error) {
	return readFile(path, buf, nil)
}

// readFile is ReadFile; if whole is set, a short read after which whole
// says the content is complete ends it early.
func readFile(path string, buf []byte, whole func([]byte) bool) ([]byte, error) {
	return readFileAt(unix.AT_FDCWD, path, buf, whole)
}

// readBlobFile is readFile of blob d, opened relative to the store's
// sha256 directory when it is open (sha256Dir); errors name the whole path.
func (s *Store) readBlobFile(d digest.Digest, buf []byte, whole func([]byte) bool) ([]byte, error) {
	dir := s.sha256Dir()
	if dir < 0 || d.Algorithm() != digest.SHA256 {
		return readFile(s.BlobPath(d), buf, whole)
	}
	b, err := readFileAt(dir, d.Encoded(), buf, whole)
	// The cleanup that closes dir runs once s is unreachable: not before
	// the open above has used it.
	runtime.KeepAlive(s)
	var pe *fs.PathError
	if errors.As(err, &pe) {
		pe.Path = s.BlobPath(d)
	}
	return b, err
}

// readFileAt is readFile of path relative to the directory dirfd.
func readFileAt(dirfd int, path string, buf []byte, whole func([]byte) bool) ([]byte, error) {
	var fd int
	var err error
	for {
		fd, err = unix.Openat(dirfd, path, blobOpenFlags, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err == syscall.ELOOP {
		err = ErrNotRegular
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	b := buf[:0]
	if cap(b) == 0 {
		b = make([]byte, 0, 4096)
	}
	checked := false
	for {
		if len(b) == cap(b) {
			// Only a file that fills the buffer is asked what it is
			// (a device would never end): one call, not one a blob.
			if !checked {
				if err := checkRegular(fd); err != nil {
					return nil, &fs.PathError{Op: "read", Path: path, Err: err}
				}
				checked = true
			}
			b = append(b, 0)[:len(b)]
		}
		room := cap(b) - len(b)
		n, err := syscall.Read(fd, b[len(b):cap(b)])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			return b, nil
		}
		b = b[:len(b)+n]
		if n < room && whole != nil && whole(b) {
			return b, nil
		}
	}
}

// checkRegular is ErrNotRegular unless fd is a regular file.
func checkRegular(fd int) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return ErrNotRegular
	}
	return nil
}

// validate is d.Validate, without its regular expression for the common
// case (a sha256 digest in lower-case hex), which is a walk's hot path.
func validate(d digest.Digest) error {
	const prefix = "sha256:"
	if len(d) == len(prefix)+64 && string(d[:len(prefix)]) == prefix {
		ok := true
		for i := len(prefix); i < len(d); i++ {
			if c := d[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				ok = false
				break
			}
		}
		if ok {
			return nil
		}
	}
	return d.Validate()
}
