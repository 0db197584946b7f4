package remote

import (
	"io"

	"github.com/opencontainers/go-digest"
)

// EventKind says what an Event reports.
type EventKind int

const (
	// EventPlan: N blobs of Size bytes in total are about to be checked
	// or moved.
	EventPlan EventKind = iota
	// EventBlobStart: blob Digest of Size bytes starts moving.
	EventBlobStart
	// EventBlobBytes: N more bytes of blob Digest moved.
	EventBlobBytes
	// EventBlobDone: blob Digest is done; Skipped if the other side had it.
	EventBlobDone
	// EventManifest: commit Digest's manifest was written.
	EventManifest
)

// Event is one step of a transfer, for progress display.
type Event struct {
	Kind    EventKind
	Digest  digest.Digest
	Size    int64
	N       int64
	Skipped bool
}

// countingReader reports bytes read as EventBlobBytes.
type countingReader struct {
	r io.ReadCloser
	d digest.Digest
	o *Options
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.o.event(Event{Kind: EventBlobBytes, Digest: c.d, N: int64(n)})
	}
	return n, err
}

func (c *countingReader) Close() error { return c.r.Close() }

func (o *Options) counting(rc io.ReadCloser, d digest.Digest) io.ReadCloser {
	if o == nil || o.Progress == nil {
		return rc
	}
	return &countingReader{r: rc, d: d, o: o}
}
