package remote

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/image"
	"github.com/strata-sh/strata/objects"
)

// prefetchBudget bounds the bytes of configs held in memory between
// the history walk that fetched them and receiveSmall that stores them;
// past it, configs are fetched in the blob phase as before.
const prefetchBudget = 64 << 20

// prefetched holds small blobs (configs) fetched beside their manifests
// while a history is walked through its ancestor lists, each already
// checked against its digest: a 10,000-commit clone asks for a config in
// the same worker that received its manifest, instead of in a second
// pass of 10,000 round trips after the walk.
type prefetched struct {
	mu    sync.Mutex
	blobs map[digest.Digest][]byte
	busy  map[digest.Digest]bool
	bytes int64
}

// config fetches d into the cache unless the store has it, it is cached
// or being fetched, it is not small, or the budget is spent. Errors are
// left for the blob phase, which fetches it again and reports them.
func (s *Session) prefetchConfig(ctx context.Context, st *objects.Store, d ocispec.Descriptor) {
	p := &s.pre
	if st == nil || d.Size > smallBlob || d.Size < 0 {
		return
	}
	p.mu.Lock()
	if p.blobs == nil {
		p.blobs, p.busy = map[digest.Digest][]byte{}, map[digest.Digest]bool{}
	}
	skip := p.busy[d.Digest] || p.bytes+d.Size > prefetchBudget
	if !skip {
		p.busy[d.Digest] = true
		p.bytes += d.Size
	}
	p.mu.Unlock()
	if skip || st.Has(d.Digest) {
		return
	}
	b, err := s.fetchSmall(ctx, d)
	if err != nil {
		return
	}
	p.mu.Lock()
	p.blobs[d.Digest] = b
	p.mu.Unlock()
}

// take returns a prefetched blob and forgets it.
func (p *prefetched) take(d digest.Digest) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	b, ok := p.blobs[d]
	if ok {
		delete(p.blobs, d)
		p.bytes -= int64(len(b))
	}
	return b
}

// fetchSmall reads blob d whole, exactly its size, and checks it
// against its digest.
func (s *Session) fetchSmall(ctx context.Context, d ocispec.Descriptor) ([]byte, error) {
	rc, err := s.t.fetchBlob(ctx, d)
	if err != nil {
		return nil, goneOr(d.Digest, err)
	}
	defer rc.Close()
	if d.Size < 0 {
		return nil, fmt.Errorf("receive blob %s: size %d: %w", short(d.Digest), d.Size, ErrBadImage)
	}
	// Room for the whole blob, and the read that finds its end, at once
	// (every caller bounds d.Size): io.ReadAll's growing made twice a
	// history bundle's size in garbage.
	buf := bytes.NewBuffer(make([]byte, 0, d.Size+bytes.MinRead))
	if _, err := buf.ReadFrom(image.ExactSizeCloser(rc, d.Size)); err != nil {
		return nil, fmt.Errorf("receive blob %s: %w", short(d.Digest), err)
	}
	b := buf.Bytes()
	if got := digest.FromBytes(b); got != d.Digest {
		return nil, fmt.Errorf("receive blob %s: %w (got %s)", short(d.Digest), objects.ErrDigestMismatch, got)
	}
	return b, nil
}

// put caches blob d, already checked, unless it is cached or being
// fetched or the budget is spent. It says whether it was cached.
func (p *prefetched) put(d digest.Digest, b []byte) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.blobs == nil {
		p.blobs, p.busy = map[digest.Digest][]byte{}, map[digest.Digest]bool{}
	}
	if p.busy[d] || p.bytes+int64(len(b)) > prefetchBudget {
		return false
	}
	p.busy[d] = true
	p.bytes += int64(len(b))
	p.blobs[d] = b
	return true
}
