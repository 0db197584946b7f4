package objects

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"os"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/internal/atomicfile"
	"github.com/strata-sh/strata/internal/pagewrite"
)

// BlobWriter stages a blob in tmp/, hashing as it is written. Commit moves
// it into place; Abort (safe to call after Commit) throws it away.
type BlobWriter struct {
	s    *Store
	f    *os.File
	h    hash.Hash
	size int64
	done bool

	flushed int64    // size at the last flush asked for
	fl      *flusher // started at the first writeback bytes
}

// NewWriter starts a new staged blob.
func (s *Store) NewWriter() (*BlobWriter, error) {
	var f *os.File
	var err error
	if s.in != nil {
		f, err = s.in.tmp.CreateTemp("blob-")
	} else {
		f, err = os.CreateTemp(s.TempDir(), "blob-")
	}
	if err != nil {
		return nil, fmt.Errorf("stage blob: %w", err)
	}
	return &BlobWriter{s: s, f: f, h: sha256.New()}, nil
}

// Write stages p, in writes the page cache takes small folios for
// (package pagewrite).
func (w *BlobWriter) Write(p []byte) (int, error) {
	n, err := pagewrite.To(w.f, p)
	w.h.Write(p[:n])
	w.wrote(n)
	return n, err
}

// wrote counts n bytes written to the staged file and, every writeback
// bytes, has what is written flushed in the background.
func (w *BlobWriter) wrote(n int) {
	w.size += int64(n)
	if w.size-w.flushed < writeback {
		return
	}
	if w.fl == nil {
		w.fl = startFlusher(w.f)
	}
	w.fl.flush()
	w.flushed = w.size
}

// stopFlusher waits for the background flushes, if any, and returns the
// first error they met.
func (w *BlobWriter) stopFlusher() error {
	if w.fl == nil {
		return nil
	}
	return w.fl.stop()
}

// Size is the number of bytes written so far.
func (w *BlobWriter) Size() int64 { return w.size }

// Digest is the digest of what was written so far.
func (w *BlobWriter) Digest() digest.Digest {
	return digest.NewDigest(digest.SHA256, w.h)
}

// Commit syncs the staged blob and renames it to its content address. If
// want is set and differs from the content's digest, nothing is stored and
// the error wraps ErrDigestMismatch.
func (w *BlobWriter) Commit(want digest.Digest) (ocispec.Descriptor, error) {
	if w.done {
		return ocispec.Descriptor{}, errors.New("blob writer already closed")
	}
	got := w.Digest()
	desc := ocispec.Descriptor{Digest: got, Size: w.size}
	if want != "" && want != got {
		w.Abort()
		return desc, fmt.Errorf("blob %s: %w (got %s)", want, ErrDigestMismatch, got)
	}
	if err := w.seal(); err != nil {
		w.Abort()
		return desc, fmt.Errorf("store blob %s: %w", got, err)
	}
	w.done = true
	if w.s.Reuse(got) {
		w.remove()
		return desc, nil
	}
	if err := w.place(got); err != nil {
		w.remove()
		return desc, fmt.Errorf("store blob %s: %w", got, err)
	}
	if w.s.in != nil {
		return desc, w.s.in.blobs.Sync()
	}
	return desc, atomicfile.SyncDir(w.s.BlobPath(got))
}

// place renames the staged file to the blob d.
func (w *BlobWriter) place(d digest.Digest) error {
	if w.s.in != nil {
		return w.s.in.tmp.Rename(w.f.Name(), w.s.in.blobs, d.Encoded())
	}
	return os.Rename(w.f.Name(), w.s.BlobPath(d))
}

// remove removes the staged file.
func (w *BlobWriter) remove() {
	if w.s.in != nil {
		w.s.in.tmp.Remove(w.f.Name())
		return
	}
	os.Remove(w.f.Name())
}

// seal syncs, write-protects and closes the staged file.
func (w *BlobWriter) seal() error {
	err := w.stopFlusher()
	if err == nil {
		err = w.f.Sync()
	}
	if err == nil {
		err = w.f.Chmod(0o444)
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Abort discards the staged blob.
func (w *BlobWriter) Abort() {
	if w.done {
		return
	}
	w.done = true
	w.stopFlusher()
	w.f.Close()
	w.remove()
}
