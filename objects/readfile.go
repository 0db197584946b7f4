package objects

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"syscall"

	"github.com/opencontainers/go-digest"
)

// readVerified reads blob d whole into buf (grown as needed) and checks it
// against its digest. It uses plain system calls: os.Open registers every
// file with the poller and sets its flags, five calls more a blob, which
// is most of the cost of reading a small one (log and fsck read one or
// two per commit).
func (s *Store) readVerified(d digest.Digest, buf []byte) ([]byte, error) {
	if err := validate(d); err != nil {
		return nil, fmt.Errorf("blob %q: %w", d, err)
	}
	b, err := ReadFile(s.BlobPath(d), buf)
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
	if d.Algorithm() == digest.SHA256 {
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != d.Encoded() {
			return nil, fmt.Errorf("read blob %s: blob %s: %w", d, d, ErrDigestMismatch)
		}
	} else if d.Algorithm().FromBytes(b) != d {
		return nil, fmt.Errorf("read blob %s: blob %s: %w", d, d, ErrDigestMismatch)
	}
	return b, nil
}

// ReadFile reads the file at path whole, appending to buf[:0]; see
// readVerified for why not os.ReadFile.
func ReadFile(path string, buf []byte) ([]byte, error) {
	var fd int
	var err error
	for {
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	b := buf[:0]
	if cap(b) == 0 {
		b = make([]byte, 0, 4096)
	}
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
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
	}
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
