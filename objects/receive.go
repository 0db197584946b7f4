package objects

import (
	"context"
	"io"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

const (
	// receiveBuf is the size of one read from the network; receiveBufs of
	// them are in flight between the writer and the hasher.
	receiveBuf  = 1 << 20
	receiveBufs = 8
)

// receiveBufPool keeps read buffers between receives. Each Receive made
// all eight of its own, 8 MiB a blob: a clone of 10,000 real commits
// (20,000 blobs, most under 25 KB) allocated 160 GB of them, and the
// collector, held to the soft memory limit, took over half of the
// clone's CPU.
var receiveBufPool = sync.Pool{New: func() any { return new([receiveBuf]byte) }}

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
	bufs := receiveBufSet{free: make(chan []byte, receiveBufs)}
	defer bufs.release()
	full := make(chan []byte, receiveBufs)
	hashed := make(chan struct{})
	go func() {
		defer close(hashed)
		for b := range full {
			w.h.Write(b)
			bufs.free <- b[:cap(b)]
		}
	}()
	err = w.receive(ctx, r, &bufs, full)
	close(full)
	<-hashed
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return w.Commit(want)
}

// receiveBufSet hands out up to receiveBufs read buffers of one Receive,
// taken from the pool only as the blob needs them: a small blob takes
// one.
type receiveBufSet struct {
	free  chan []byte // back from the hasher
	taken []*[receiveBuf]byte
}

// get returns a free buffer, waiting for the hasher when all are out.
func (b *receiveBufSet) get() []byte {
	select {
	case buf := <-b.free:
		return buf
	default:
	}
	if len(b.taken) < cap(b.free) {
		p := receiveBufPool.Get().(*[receiveBuf]byte)
		b.taken = append(b.taken, p)
		return p[:]
	}
	return <-b.free
}

// release gives the buffers back to the pool; the hasher is done.
func (b *receiveBufSet) release() {
	for _, p := range b.taken {
		receiveBufPool.Put(p)
	}
	b.taken = nil
}

// receive reads r into free buffers, writes each to the staged file and
// hands it to the hasher on full.
func (w *BlobWriter) receive(ctx context.Context, r io.Reader, bufs *receiveBufSet, full chan []byte) error {
	r = ContextReader(ctx, r)
	for {
		b := bufs.get()
		n, rerr := io.ReadFull(r, b)
		if n > 0 {
			if _, err := w.f.Write(b[:n]); err != nil {
				return err
			}
			w.wrote(n)
			full <- b[:n]
		} else {
			bufs.free <- b
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
