package objects

import (
	"bytes"

	"github.com/opencontainers/go-digest"
)

// A PendingSummary is a commit's manifest read, not yet checked against
// the commit's digest nor decoded, and the first parent it seems to
// name: a walk reads ahead along Parent on one goroutine while another
// checks and decodes what was read (VerifySummary), so that a cold walk
// keeps both cores busy. Only VerifySummary gives the summary, and
// nothing unchecked is decoded.
type PendingSummary struct {
	id     digest.Digest
	sum    Summary // from the cache, whose records are checked already
	cached bool
	buf    *[]byte // the manifest read
	parent digest.Digest
	err    error
}

// parentKey is how a strata manifest's JSON names the first parent:
// within a string a quote is escaped, so these bytes are a key.
var parentKey = []byte(`"` + AnnotationParent + `":"`)

// ReadPendingSummary reads what ReadSummary reads of commit id, from
// the summary cache or the manifest, but neither checks nor decodes the
// manifest: its first parent is found by its key alone, the last one
// (the manifest's own annotations come after its layers'). When that
// guess is wrong, VerifySummary's summary names another parent, and a
// walk that read ahead by it must read again from there.
func (s *Store) ReadPendingSummary(id digest.Digest) PendingSummary {
	if sum, ok := s.cachedSummary(id); ok {
		return PendingSummary{id: id, sum: sum, cached: true, parent: sum.Parent}
	}
	p := PendingSummary{id: id, buf: getPendingBuf()}
	// A short read ends the read, as a walk's does (readVerified): should
	// it not have been all of the blob, the check fails, and VerifySummary
	// reads the blob again, whole.
	b, err := s.readBlob(id, (*p.buf)[:0], func([]byte) bool { return true }, true)
	if err != nil {
		p.err = err
		return p
	}
	*p.buf = b
	if i := bytes.LastIndex(b, parentKey); i >= 0 {
		rest := b[i+len(parentKey):]
		if j := bytes.IndexByte(rest, '"'); j > 0 {
			p.parent = digest.Digest(rest[:j])
		}
	}
	return p
}

// Parent is the commit's first parent as read ahead, unchecked: what a
// walk reads next, never what it shows.
func (p *PendingSummary) Parent() digest.Digest { return p.parent }

// Read reports whether the commit's manifest (or its cached summary)
// was read: its blob is in the store, as Has would say.
func (p *PendingSummary) Read() bool { return p.err == nil }

// Checked reports whether p came from the summary cache, whose records
// are checked already: VerifySummary has nothing to hash.
func (p *PendingSummary) Checked() bool { return p.cached }

// Large reports whether p holds a manifest larger than a walk should
// keep many of while they wait to be verified (a strata commit's is at
// most some 20 KiB; one a hostile registry made may be 64 MiB).
func (p *PendingSummary) Large() bool { return p.buf != nil && len(*p.buf) > maxPooledHead }

// VerifySummary checks p's manifest against its commit's digest, decodes
// it and gives its summary, as ReadSummary would have. Anything short of
// a checked manifest (an error, a mismatch, a read that ended short) is
// read again by ReadSummary, whose answer it gives.
func (s *Store) VerifySummary(p PendingSummary) (Summary, error) {
	if p.cached {
		return p.sum, nil
	}
	if p.buf == nil || p.err != nil || !matches(p.id, *p.buf) {
		if p.buf != nil {
			putPendingBuf(p.buf)
		}
		return s.ReadSummary(p.id)
	}
	m, err := parseOwnedManifestHead(p.id, *p.buf)
	putPendingBuf(p.buf)
	if err != nil {
		return Summary{}, err
	}
	sum, complete := summaryOf(p.id, m)
	if !complete {
		if sum, err = s.withConfigSummary(sum); err != nil {
			return Summary{}, err
		}
	}
	s.noteSummary(sum)
	return sum, nil
}

// pendingBufs are PendingSummary's buffers, passed from the goroutine
// that reads to the one that verifies: a channel, not a sync.Pool, whose
// per-processor caches would give the reader a new buffer each time.
// It holds as many as a log has in flight (some 200: cmd/strata's
// logahead.go).
var pendingBufs = make(chan *[]byte, 256)

func getPendingBuf() *[]byte {
	select {
	case b := <-pendingBufs:
		return b
	default:
		b := make([]byte, 0, 4096)
		return &b
	}
}

func putPendingBuf(b *[]byte) {
	if cap(*b) > maxPooledHead {
		return
	}
	select {
	case pendingBufs <- b:
	default:
	}
}
