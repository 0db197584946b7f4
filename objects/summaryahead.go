package objects

import (
	"bytes"
	"fmt"
	"runtime"

	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"
)

// A PendingSummary is a commit's manifest opened, not yet read whole,
// checked against the commit's digest nor decoded, and the first parent
// it seems to name: a walk reads ahead along Parent on one goroutine
// while others read, check and decode what was opened (VerifySummary),
// so that a cold walk keeps both cores busy. The reader reads a
// manifest's tail alone, where its parent is; the verifier reads it
// whole into a buffer of its own, still in its core's cache when it
// hashes it (read on one core and hashed on another, the bytes crossed
// between the caches, and the reader's turns of some 200 buffers made a
// page fault each 4 KiB). Only VerifySummary gives the summary, and
// nothing unchecked is decoded.
type PendingSummary struct {
	id     digest.Digest
	sum    Summary // from the cache, whose records are checked already
	cached bool
	open   bool  // the manifest is opened, for VerifySummary to read:
	fd     int   // its descriptor
	size   int64 // and its size when opened
	// small is a manifest of pendingTail bytes at most (a commit's
	// that lists no layer), which the tail read whole: it is closed.
	small  *[pendingTail]byte
	parent digest.Digest
	err    error
}

// parentKey is how a strata manifest's JSON names the first parent:
// within a string a quote is escaped, so these bytes are a key.
var parentKey = []byte(`"` + AnnotationParent + `":"`)

// ReadPendingSummary opens what ReadSummary reads of commit id, from
// the summary cache or the manifest, but neither reads the manifest
// whole, checks nor decodes it: its first parent is found by its key
// alone in its tail, the last one (the manifest's own annotations come
// after its layers', and strata writes the parent last but for the
// date). When that guess is wrong, VerifySummary's summary names
// another parent, and a walk that read ahead by it must read again from
// there. What is opened is closed, once, by VerifySummary or Drop.
func (s *Store) ReadPendingSummary(id digest.Digest) PendingSummary {
	if sum, ok := s.cachedSummary(id); ok {
		return PendingSummary{id: id, sum: sum, cached: true, parent: sum.Parent}
	}
	p := PendingSummary{id: id}
	p.fd, p.size, p.err = s.openManifest(id)
	if p.err != nil {
		return p
	}
	p.open = true
	tail := getTail()
	off := max(p.size-pendingTail, 0)
	n, err := unix.Pread(p.fd, tail[:min(p.size, pendingTail)], off)
	if err != nil || n <= 0 {
		// VerifySummary reads again from the start and says what fails.
		putTail(tail)
		return p
	}
	p.parent = lastParent(tail[:n])
	if off == 0 && int64(n) == p.size {
		// All of it: VerifySummary needs not read it again.
		p.Drop()
		p.small = tail
		return p
	}
	putTail(tail)
	if p.parent == "" && off > 0 {
		// Annotations sorted after the parent's (a commit's own, as
		// org.opencontainers.image.title) moved it out of the tail: the
		// whole is read here, and again by VerifySummary.
		bp := headBufs.Get().(*[]byte)
		b, _ := readPending(p.fd, p.size, (*bp)[:0])
		p.parent = lastParent(b)
		if cap(b) <= maxPooledHead {
			*bp = b[:0]
		}
		headBufs.Put(bp)
	}
	return p
}

// lastParent is the value of the last first-parent key in b, if any.
func lastParent(b []byte) digest.Digest {
	if i := bytes.LastIndex(b, parentKey); i >= 0 {
		rest := b[i+len(parentKey):]
		if j := bytes.IndexByte(rest, '"'); j > 0 {
			return digest.Digest(rest[:j])
		}
	}
	return ""
}

// pendingTail is how much of a manifest's end ReadPendingSummary reads
// for its parent: in a strata commit's, the parent and the date take
// some 160 bytes.
const pendingTail = 512

// tailBufs are the tails read, passed back from the verifiers with the
// small manifests: a channel, not a sync.Pool, whose per-processor
// caches would give the reader a new buffer each time.
var tailBufs = make(chan *[pendingTail]byte, 256)

func getTail() *[pendingTail]byte {
	select {
	case b := <-tailBufs:
		return b
	default:
		return new([pendingTail]byte)
	}
}

func putTail(b *[pendingTail]byte) {
	select {
	case tailBufs <- b:
	default:
	}
}

// openManifest opens blob id, a manifest, for a read ahead: a regular
// file, of a size a manifest may have.
func (s *Store) openManifest(id digest.Digest) (fd int, size int64, err error) {
	dir := s.sha256Dir()
	if err := validate(id); err != nil || dir < 0 || id.Algorithm() != digest.SHA256 {
		return -1, 0, fmt.Errorf("blob %s: not read ahead", id)
	}
	for {
		fd, err = unix.Openat(dir, id.Encoded(), blobOpenFlags, 0)
		if err != unix.EINTR {
			break
		}
	}
	// The cleanup that closes dir runs once s is unreachable: not before
	// the open above has used it.
	runtime.KeepAlive(s)
	if err != nil {
		return -1, 0, err
	}
	size, err = regularSize(fd)
	if err == nil && (size == 0 || size > maxJSONBlob) {
		err = errTooLarge
	}
	if err != nil {
		unix.Close(fd)
		return -1, 0, err
	}
	return fd, size, nil
}

// Parent is the commit's first parent as read ahead, unchecked: what a
// walk reads next, never what it shows.
func (p *PendingSummary) Parent() digest.Digest { return p.parent }

// Read reports whether the commit's manifest was opened (or its summary
// found in the cache): its blob is in the store, as Has would say.
func (p *PendingSummary) Read() bool { return p.err == nil }

// Checked reports whether p came from the summary cache, whose records
// are checked already: VerifySummary has nothing to hash.
func (p *PendingSummary) Checked() bool { return p.cached }

// Large reports whether p's manifest is larger than a walk should have
// many of in reading at once (a strata commit's is at most some 20 KiB;
// one a hostile registry made may be 64 MiB).
func (p *PendingSummary) Large() bool { return p.open && p.size > maxPooledHead }

// Drop closes what p opened, for a walk that stopped before verifying it.
func (p *PendingSummary) Drop() {
	if p.open {
		unix.Close(p.fd)
		p.open = false
	}
	if p.small != nil {
		putTail(p.small)
		p.small = nil
	}
}

// VerifySummary reads p's manifest whole, checks it against its
// commit's digest, decodes it and gives its summary, as ReadSummary
// would have, and closes what p opened. Anything short of a checked
// manifest (an error, a mismatch, a read that ended short) is read again
// by ReadSummary, whose answer it gives.
func (s *Store) VerifySummary(p PendingSummary) (Summary, error) {
	if p.cached {
		return p.sum, nil
	}
	var b []byte
	switch {
	case p.small != nil:
		defer p.Drop()
		b = p.small[:p.size]
	case p.open:
		bp := headBufs.Get().(*[]byte)
		defer headBufs.Put(bp)
		var ok bool
		b, ok = readPending(p.fd, p.size, (*bp)[:0])
		p.Drop()
		if cap(b) <= maxPooledHead {
			*bp = b[:0]
		}
		if !ok {
			return s.ReadSummary(p.id)
		}
	default:
		return s.ReadSummary(p.id)
	}
	// Not an object (a ref naming a layer) or not these bytes: ReadSummary
	// says so, as a walk without read-ahead would.
	if startsAsObject(p.id, b) != nil || !matches(p.id, b) {
		return s.ReadSummary(p.id)
	}
	m, err := parseOwnedManifestHead(p.id, b)
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

// readPending reads the file fd, size bytes when opened, into buf: ok if
// it read them all. A short read ends it, as a walk's does (see
// readVerified): should it not have been all of the file, the check
// against the digest fails, and the caller reads again, whole.
func readPending(fd int, size int64, buf []byte) (b []byte, ok bool) {
	if int64(cap(buf)) <= size {
		buf = make([]byte, 0, size+1)
	}
	b = buf[:size+1]
	n := 0
	for n < len(b) {
		k, err := unix.Pread(fd, b[n:], int64(n))
		if err == unix.EINTR {
			continue
		}
		if err != nil || k <= 0 {
			break
		}
		n += k
		if n < len(b) {
			break // short: the end, unless the check finds otherwise
		}
	}
	return b[:n], int64(n) == size
}
