package layer

import (
	"archive/tar"
	"encoding/hex"
	"fmt"
	"io"
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/zeebo/blake3"
	"golang.org/x/sys/unix"
)

// poolMax is the largest file whose content is handed to the pool; larger
// files are written by the unpacker itself, in a stream.
const poolMax = 1 << 20

// Files are handed to the workers in batches of up to batchFiles files or
// batchBytes of content, whichever comes first: one channel send per file
// woke a worker per file, and on two cores those wakeups (futex, and the
// scheduler's spinning and nanosleeps) cost as much as the writes.
const (
	batchFiles = 32
	batchBytes = 2 << 20
	batchQueue = 4 // batches queued: with one per worker, bounds the content and fds in flight
)

// fileJob is a created, still empty file: its fd, its content and header.
// The content is either copied (data, from any tar stream) or in place in
// the decoder's frames (first and more, from a frameReader).
type fileJob struct {
	fd     int
	hdr    *tar.Header
	data   []byte
	buf    *[]byte  // data's buffer, back to bufs when written
	spans  [2]span  // content in place: one piece, two when it crosses frames
	digest *string  // if set, gets the content's blake3 (for the index)
	how    metaHow  // which metadata calls the file still needs
	big    *bigFile // set for a piece of a large file: spans[0] goes at off
	off    int64
}

// bigFile is a file larger than poolMax whose content the pool writes
// in pieces, one a frame, at their offsets: a large file written by the
// unpacker alone left one core idle while the decoders, ahead, waited
// for frames (a dip to 40% of both cores in a checkout's timeline).
// The last reference set its metadata and closes it.
type bigFile struct {
	fd     int
	hdr    *tar.Header
	how    metaHow
	refs   atomic.Int32 // pieces queued, and the unpacker's until all are
	failed atomic.Bool  // the unpacker could not take all of its content
}

// span is a piece of content in a frame's buffer, holding a reference
// on that frame until written.
type span struct {
	b []byte
	f *frame
}

// pieces calls fn on the job's content, piece by piece.
func (j *fileJob) pieces(fn func([]byte)) {
	if j.spans[0].f == nil {
		fn(j.data)
		return
	}
	for _, s := range j.spans {
		if s.f != nil {
			fn(s.b)
		}
	}
}

// filePool writes regular files' content and metadata on a few
// goroutines, so that the kernel's work of filling files runs on every
// core while the unpacker parses on. The unpacker still creates each file
// (openat O_EXCL, in tar order, through its safe parent fd): a worker only
// writes through that fd, so no path is resolved off the unpacker's
// goroutine and later entries see the file exist.
type filePool struct {
	u     *unpacker
	fr    *frameReader // where in-place content comes from
	jobs  chan []fileJob
	batch []fileJob // being filled by the unpacker
	bytes int       // content in batch
	wg    sync.WaitGroup
	mu    sync.Mutex
	err   error
}

// bufs holds content buffers by size class (powers of two).
var bufs [21]sync.Pool

func getBuf(n int) *[]byte {
	c := bits.Len(uint(max(n, 1) - 1))
	if b, ok := bufs[c].Get().(*[]byte); ok {
		*b = (*b)[:n]
		return b
	}
	b := make([]byte, n, 1<<c)
	return &b
}

func putBuf(b *[]byte) {
	bufs[bits.Len(uint(cap(*b)-1))].Put(b)
}

func newFilePool(u *unpacker) *filePool {
	p := &filePool{u: u, jobs: make(chan []fileJob, batchQueue)}
	if u.src != nil {
		p.fr = u.src.fr
	}
	n := min(max(runtime.GOMAXPROCS(0), 1), 8)
	p.wg.Add(n)
	for range n {
		go p.work()
	}
	return p
}

func (p *filePool) work() {
	defer p.wg.Done()
	h := blake3.New()
	for batch := range p.jobs {
		for _, j := range batch {
			if j.digest != nil {
				h.Reset()
				j.pieces(func(b []byte) { h.Write(b) })
				*j.digest = "blake3:" + hex.EncodeToString(h.Sum(nil))
			}
			err := p.write(j)
			if err != nil {
				p.mu.Lock()
				if p.err == nil {
					p.err = fmt.Errorf("entry %q: %w", j.hdr.Name, err)
				}
				p.mu.Unlock()
			}
		}
	}
}

func (p *filePool) write(j fileJob) error {
	if j.big != nil {
		return p.writePiece(j)
	}
	defer unix.Close(j.fd)
	defer p.done(&j)
	if p.Err() != nil {
		return nil
	}
	var err error
	j.pieces(func(b []byte) {
		if err == nil {
			err = writeAll(j.fd, b)
		}
	})
	if err != nil {
		return err
	}
	return p.u.metaFD(j.fd, "", j.hdr, false, j.how)
}

// writePiece writes a piece of a large file at its offset.
func (p *filePool) writePiece(j fileJob) (err error) {
	defer func() {
		if uerr := p.unref(j.big); err == nil {
			err = uerr
		}
	}()
	defer p.done(&j)
	if p.Err() != nil {
		return nil
	}
	for b, off := j.spans[0].b, j.off; len(b) > 0; {
		n, err := unix.Pwrite(j.fd, b, off)
		if err != nil {
			return fmt.Errorf("write: %w", err)
		}
		b, off = b[n:], off+int64(n)
	}
	return nil
}

// addBig queues the content of the large file fd in pieces, as it lies
// in the frames; the fd is the pool's from then on.
func (p *filePool) addBig(fd int, hdr *tar.Header, src *tarSource, how metaHow) error {
	b := &bigFile{fd: fd, hdr: hdr, how: how}
	b.refs.Store(1)
	for off := int64(0); off < hdr.Size; {
		s, f, err := src.span(hdr.Size - off)
		if err != nil {
			b.failed.Store(true)
			p.unref(b)
			return fmt.Errorf("write: %w", err)
		}
		b.refs.Add(1)
		p.queue(fileJob{fd: fd, hdr: hdr, spans: [2]span{{s, f}}, big: b, off: off}, len(s))
		off += int64(len(s))
	}
	return p.unref(b)
}

// unref drops a reference to b; the last sets its metadata, once all of
// its content is written, and closes it.
func (p *filePool) unref(b *bigFile) error {
	if b.refs.Add(-1) != 0 {
		return nil
	}
	defer unix.Close(b.fd)
	if b.failed.Load() || p.Err() != nil {
		return nil
	}
	return p.u.metaFD(b.fd, "", b.hdr, false, b.how)
}

// done gives back what holds j's content.
func (p *filePool) done(j *fileJob) {
	if j.buf != nil {
		putBuf(j.buf)
	}
	for _, s := range j.spans {
		if s.f != nil {
			p.fr.release(s.f)
		}
	}
}

// writeAll writes b to fd.
func writeAll(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if err != nil {
			return fmt.Errorf("write: %w", err)
		}
		b = b[n:]
	}
	return nil
}

// Err is the first error of a worker so far.
func (p *filePool) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// add reads the content of the file fd from tr and queues it; the fd is
// the pool's from then on.
func (p *filePool) add(fd int, hdr *tar.Header, tr io.Reader, digest *string, how metaHow) error {
	b := getBuf(int(hdr.Size))
	if _, err := io.ReadFull(tr, *b); err != nil {
		putBuf(b)
		unix.Close(fd)
		return fmt.Errorf("write: %w", err)
	}
	p.queue(fileJob{fd: fd, hdr: hdr, data: *b, buf: b, digest: digest, how: how}, len(*b))
	return nil
}

// addInPlace queues the file fd with its content left in place in the
// decoder's frames; the fd is the pool's from then on. A job holds two
// frames at most, as Create's frames are far larger than poolMax: content
// that crosses more (another tool's small frames) is copied, so that the
// frames the reader needs to go on are never all held by queued files.
func (p *filePool) addInPlace(fd int, hdr *tar.Header, src *tarSource, digest *string, how metaHow) error {
	j := fileJob{fd: fd, hdr: hdr, digest: digest, how: how}
	n := 0
	for left := hdr.Size; left > 0; {
		if n == len(j.spans) {
			return p.addCopied(j, src, left)
		}
		b, f, err := src.span(left)
		if err != nil {
			p.done(&j)
			unix.Close(fd)
			return fmt.Errorf("write: %w", err)
		}
		j.spans[n] = span{b, f}
		n++
		left -= int64(len(b))
	}
	p.queue(j, int(hdr.Size))
	return nil
}

// addCopied queues j with its content copied: the pieces it holds, then
// the left bytes still in the stream.
func (p *filePool) addCopied(j fileJob, src *tarSource, left int64) error {
	b := getBuf(int(j.hdr.Size))
	w := 0
	j.pieces(func(s []byte) { w += copy((*b)[w:], s) })
	p.done(&j)
	j.spans = [2]span{}
	for ; left > 0; left = int64(len(*b) - w) {
		s, f, err := src.span(left)
		if err != nil {
			putBuf(b)
			unix.Close(j.fd)
			return fmt.Errorf("write: %w", err)
		}
		w += copy((*b)[w:], s)
		p.fr.release(f)
	}
	j.data, j.buf = *b, b
	p.queue(j, len(*b))
	return nil
}

// queue adds j to the batch being filled, handing the batch over once full.
func (p *filePool) queue(j fileJob, size int) {
	p.batch = append(p.batch, j)
	p.bytes += size
	if len(p.batch) >= batchFiles || p.bytes >= batchBytes {
		p.flush()
	}
}

// flush hands the batch being filled to the workers.
func (p *filePool) flush() {
	if len(p.batch) == 0 {
		return
	}
	p.jobs <- p.batch
	p.batch, p.bytes = make([]fileJob, 0, batchFiles), 0
}

// wait lets the workers finish and returns their first error.
func (p *filePool) wait() error {
	p.flush()
	close(p.jobs)
	p.wg.Wait()
	return p.Err()
}
