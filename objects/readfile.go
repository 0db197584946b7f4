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
// read. fsck's ReadJSONBlob reads to EOF all the same.
//
// asJSON refuses, after its first read, a blob whose first byte that is
// not white space is not '{': a manifest or config is a JSON object, and
// a layer named where one is expected (a ref or a config descriptor that
// names a layer, a short id that a layer's name begins with) is not read
// whole.
func (s *Store) readVerified(d digest.Digest, buf []byte, toEOF, asJSON bool) ([]byte, error) {
	var whole func([]byte) bool
	checked := false // whole found b to match
	if !toEOF {
		whole = func(b []byte) bool { checked = matches(d, b); return checked }
	}
	b, err := s.readBlob(d, buf, whole, asJSON)
	if err != nil {
		return nil, err
	}
	if !checked && !matches(d, b) {
		return nil, fmt.Errorf("read blob %s: blob %s: %w", d, d, ErrDigestMismatch)
	}
	return b, nil
}

// readBlob reads blob d into buf, unchecked: as readVerified, whose
// errors it gives, with whole as readFile's.
func (s *Store) readBlob(d digest.Digest, buf []byte, whole func([]byte) bool, asJSON bool) ([]byte, error) {
	if err := validate(d); err != nil {
		return nil, fmt.Errorf("blob %q: %w", d, err)
	}
	var first func([]byte) error
	limit := 0
	if asJSON {
		first = func(b []byte) error { return startsAsObject(d, b) }
		limit = maxJSONBlob
	}
	b, err := s.readBlobFile(d, buf, whole, first, limit)
	if errors.Is(err, errNotObject) {
		return nil, err
	}
	if errors.Is(err, errTooLarge) {
		return nil, fmt.Errorf("blob %s: %w: more than the %d MiB a manifest or config may be", d, errTooLarge, maxJSONBlob>>20)
	}
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
	return b, nil
}

// errNotObject: a blob read as a manifest or config does not begin as
// a JSON object.
var errNotObject = errors.New("not a JSON object")

// maxJSONBlob bounds a blob read as a manifest or config: it is read
// whole and decoded, and one that a hostile repository made of gigabytes
// (beginning with '{') would take all memory. Eight times what a fetch
// takes for a config (8 MiB); a strata commit this large would be some
// 180,000 commits deep.
const maxJSONBlob = 64 << 20

// errTooLarge: a blob read as a manifest or config is larger than
// maxJSONBlob.
var errTooLarge = errors.New("too large")

// startsAsObject checks the first bytes read of blob d for a JSON
// object's '{' (white space before it aside).
func startsAsObject(d digest.Digest, b []byte) error {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '{':
			return nil
		}
		return fmt.Errorf("blob %s: %w: it begins with byte %#02x", d, errNotObject, c)
	}
	return nil
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
	return readFile(path, buf, nil, nil, 0)
}

// readFile is ReadFile; if whole is set, a short read after which whole
// says the content is complete ends it early; if first is set, its error
// on the bytes of the first read ends it.
func readFile(path string, buf []byte, whole func([]byte) bool, first func([]byte) error, limit int) ([]byte, error) {
	return readFileAt(unix.AT_FDCWD, path, buf, whole, first, limit)
}

// readBlobFile is readFile of blob d, opened relative to the store's
// sha256 directory when it is open (sha256Dir); errors name the whole path.
func (s *Store) readBlobFile(d digest.Digest, buf []byte, whole func([]byte) bool, first func([]byte) error, limit int) ([]byte, error) {
	dir := s.sha256Dir()
	if dir < 0 || d.Algorithm() != digest.SHA256 {
		return readFile(s.BlobPath(d), buf, whole, first, limit)
	}
	b, err := readFileAt(dir, d.Encoded(), buf, whole, first, limit)
	// The cleanup that closes dir runs once s is unreachable: not before
	// the open above has used it.
	runtime.KeepAlive(s)
	var pe *fs.PathError
	if errors.As(err, &pe) {
		pe.Path = s.BlobPath(d)
	}
	return b, err
}

// readFileAt is readFile of path relative to the directory dirfd. A
// file longer than limit bytes (when it is not 0) is errTooLarge.
func readFileAt(dirfd int, path string, buf []byte, whole func([]byte) bool, first func([]byte) error, limit int) ([]byte, error) {
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
				size, err := regularSize(fd)
				if err != nil {
					return nil, &fs.PathError{Op: "read", Path: path, Err: err}
				}
				checked = true
				// Room for the whole file and the read that finds its
				// end, at once: doubling from 4 KiB made three buffers
				// for a 21 KB config, a third of a long clone's garbage.
				if want := size + 1; want > int64(cap(b)) && (limit <= 0 || want <= int64(limit)+1) {
					b = append(make([]byte, 0, want), b...)
					continue
				}
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
		if limit > 0 && len(b) > limit {
			return nil, errTooLarge
		}
		if first != nil {
			if err := first(b); err != nil {
				if !checked { // a device's bytes are no content
					if err := checkRegular(fd); err != nil {
						return nil, &fs.PathError{Op: "read", Path: path, Err: err}
					}
				}
				return nil, err
			}
			first = nil
		}
		if n < room && whole != nil && whole(b) {
			return b, nil
		}
	}
}

// checkRegular is ErrNotRegular unless fd is a regular file.
func checkRegular(fd int) error {
	_, err := regularSize(fd)
	return err
}

// regularSize is the size of the regular file fd, ErrNotRegular for
// anything else.
func regularSize(fd int) (int64, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return 0, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return 0, ErrNotRegular
	}
	return st.Size, nil
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
