package layer

import (
	"archive/tar"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/strata-sh/strata/internal/pagewrite"
	"github.com/zeebo/blake3"
	"golang.org/x/sync/semaphore"
	"golang.org/x/sys/unix"
)

// poolMax is the largest file whose content is handed to the pool; larger
// files are written by the unpacker itself, in a stream.
const poolMax = 1 << 20

// Files are handed to the workers in batches of up to batchFiles files or
// batchBytes of content, whichever comes first: one channel send per file
// woke a worker per file, and on two cores those wakeups (futex, and the
// scheduler's spinning and nanosleeps) cost as much as the writes.
//
// A lane queues up to laneQueue batches, so that it can work on one
// directory while the unpacker parses the next (a directory of 1,000
// small files is 32 batches). What the queued files hold is bounded by
// a budget of heldMax: the content copied for them, and heldFD for each
// open fd. Content in place in the decoder's frames is bounded by the
// frames instead.
const (
	batchFiles = 32
	batchBytes = 2 << 20
	laneQueue  = 64
	heldMax    = 16 << 20
	heldFD     = 64 << 10 // so at most 256 fds wait in the queues
)

// fileJob is a file to fill: its fd (created, still empty) or, when fd
// is -1, the directory and name the worker creates it as; its content
// and header. The content is either copied (data, from any tar stream)
// or in place in the decoder's frames (spans, from a frameReader).
type fileJob struct {
	fd     int
	pfd    int    // with fd -1: the directory to create base in
	base   string // with fd -1: the new file's name
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
	lane   int          // every piece goes to one lane (see addBig)
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
// core while the unpacker parses on. No path is resolved off the
// unpacker's goroutine: a worker writes through the fd the unpacker
// created, or creates a new name itself (openat O_EXCL) in a parent
// directory fd the unpacker resolved and keeps open until the pool is
// drained (unpacker.barrier). Creating there lets the creates of
// different directories run at once (each directory's lock serialises
// its own), where they were all on the unpacker's goroutine: with many
// small files, creates were most of its time.
type filePool struct {
	u       *unpacker
	fr      *frameReader // where in-place content comes from
	lanes   []*lane
	dirLane int                 // the lane new files of dir go to
	dir     int                 // the directory of the last new file queued
	anyLane int                 // the lane the other jobs go to
	pending sync.WaitGroup      // batches handed over and not yet done
	held    *semaphore.Weighted // heldMax, less what queued batches hold
	wg      sync.WaitGroup
	mu      sync.Mutex
	err     error
}

// lane is one worker's queue. The new files of one directory all go to
// one lane, so that two workers do not contend for its lock (two
// workers creating in one directory spent a tenth of a checkout's CPU
// spinning on it, rwsem_spin_on_owner); the next directory's go to the
// next lane, which works on it meanwhile.
type lane struct {
	jobs  chan batch
	batch batch // being filled by the unpacker
	bytes int   // content in batch
}

// batch is a run of jobs and what they hold of the budget.
type batch struct {
	jobs []fileJob
	held int64
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
	p := &filePool{u: u, dir: -1, held: semaphore.NewWeighted(heldMax)}
	if u.src != nil {
		p.fr = u.src.fr
	}
	n := min(max(runtime.GOMAXPROCS(0), 1), 8)
	p.wg.Add(n)
	for range n {
		l := &lane{jobs: make(chan batch, laneQueue)}
		p.lanes = append(p.lanes, l)
		go p.work(l)
	}
	return p
}

// queueNew hands a new small file, base in pfd, to the pool, which
// creates and fills it.
func (u *unpacker) queueNew(pfd int, base string, hdr *tar.Header, tr io.Reader) error {
	u.inflight = true // entry has put its name in created
	j := fileJob{fd: -1, pfd: pfd, base: base, hdr: hdr, digest: u.ix.fileDigest(), how: u.createHow(pfd, hdr)}
	if u.src != nil && !sparse(hdr) {
		return u.pool.addInPlace(j, u.src)
	}
	return u.pool.add(j, tr)
}

// barrier waits until the pool has created and filled every file queued
// by queueNew, and returns its first error.
func (u *unpacker) barrier() error {
	if !u.inflight || u.pool == nil {
		return nil
	}
	u.inflight = false
	return u.pool.drain()
}

func (p *filePool) work(l *lane) {
	defer p.wg.Done()
	h := blake3.New()
	for b := range l.jobs {
		for _, j := range b.jobs {
			if j.digest != nil {
				h.Reset()
				j.pieces(func(b []byte) { h.Write(b) })
				*j.digest = "blake3:" + hex.EncodeToString(h.Sum(nil))
			}
			err := p.write(j)
			if err != nil {
				p.mu.Lock()
				if p.err == nil {
					p.err = fmt.Errorf("entry %s: %w", quoteName(j.hdr.Name), err)
				}
				p.mu.Unlock()
			}
		}
		p.held.Release(b.held)
		p.pending.Done()
	}
}

func (p *filePool) write(j fileJob) error {
	if j.big != nil {
		return p.writePiece(j)
	}
	defer p.done(&j)
	if p.Err() != nil {
		closeJobFD(j)
		return nil
	}
	if j.fd < 0 {
		fd, err := unix.Openat(j.pfd, j.base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, uint32(j.hdr.Mode)&0o777)
		if err != nil {
			return fmt.Errorf("create: %w", err)
		}
		j.fd = fd
	}
	defer unix.Close(j.fd)
	var err error
	j.pieces(func(b []byte) {
		if err == nil {
			err = pagewrite.Write(j.fd, b)
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
	return pwriteHoles(j.fd, j.spans[0].b, j.off)
}

// addBig queues the content of the large file fd in pieces, as it lies
// in the frames; the fd is the pool's from then on.
func (p *filePool) addBig(fd int, hdr *tar.Header, src *tarSource, how metaHow) error {
	// One worker writes every piece, in order: the kernel takes the
	// file's lock for each write, and pieces written by two workers at
	// once spent 3% of a checkout's CPU spinning on it
	// (rwsem_spin_on_owner in shmem_file_write_iter). The other files go
	// to the next lane meanwhile.
	b := &bigFile{fd: fd, hdr: hdr, how: how, lane: p.anyLane}
	p.anyLane = (p.anyLane + 1) % len(p.lanes)
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
	if err := setSize(b.fd, b.hdr.Size); err != nil {
		return err
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

// Err is the first error of a worker so far.
func (p *filePool) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// add reads the content of j's file from tr and queues it; j's fd, if
// any, is the pool's from then on.
func (p *filePool) add(j fileJob, tr io.Reader) error {
	b := getBuf(int(j.hdr.Size))
	if _, err := io.ReadFull(tr, *b); err != nil {
		putBuf(b)
		closeJobFD(j)
		return fmt.Errorf("write: %w", err)
	}
	j.data, j.buf = *b, b
	p.queue(j, len(*b))
	return nil
}

// closeJobFD closes the fd of a job that will not be written, if it has one.
func closeJobFD(j fileJob) {
	if j.fd >= 0 {
		unix.Close(j.fd)
	}
}

// addInPlace queues j's file with its content left in place in the
// decoder's frames; j's fd, if any, is the pool's from then on. A job
// holds two frames at most, as Create's frames are far larger than
// poolMax: content that crosses more (another tool's small frames) is
// copied, so that the frames the reader needs to go on are never all
// held by queued files.
func (p *filePool) addInPlace(j fileJob, src *tarSource) error {
	n := 0
	for left := j.hdr.Size; left > 0; {
		if n == len(j.spans) {
			return p.addCopied(j, src, left)
		}
		b, f, err := src.span(left)
		if err != nil {
			p.done(&j)
			closeJobFD(j)
			return fmt.Errorf("write: %w", err)
		}
		j.spans[n] = span{b, f}
		n++
		left -= int64(len(b))
	}
	p.queue(j, int(j.hdr.Size))
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
			closeJobFD(j)
			return fmt.Errorf("write: %w", err)
		}
		w += copy((*b)[w:], s)
		p.fr.release(f)
	}
	j.data, j.buf = *b, b
	p.queue(j, len(*b))
	return nil
}

// queue adds j to its lane's batch, handing the batch over once full.
func (p *filePool) queue(j fileJob, size int) {
	var l *lane
	switch {
	case j.big != nil:
		l = p.lanes[j.big.lane]
	case j.fd < 0:
		if j.pfd != p.dir {
			p.dir, p.dirLane = j.pfd, (p.dirLane+1)%len(p.lanes)
		}
		l = p.lanes[p.dirLane]
	default:
		l = p.lanes[p.anyLane]
	}
	l.batch.jobs = append(l.batch.jobs, j)
	l.bytes += size
	if j.buf != nil {
		l.batch.held += int64(len(j.data))
	}
	if j.fd >= 0 && j.big == nil {
		l.batch.held += heldFD
	}
	if len(l.batch.jobs) >= batchFiles || l.bytes >= batchBytes {
		p.send(l)
		if l == p.lanes[p.anyLane] {
			p.anyLane = (p.anyLane + 1) % len(p.lanes)
		}
	}
}

// send hands l's batch to its worker, once the budget has room for it
// (a batch holds batchBytes+poolMax at most, well below heldMax).
func (p *filePool) send(l *lane) {
	_ = p.held.Acquire(context.Background(), l.batch.held) // fails only when cancelled
	p.pending.Add(1)
	l.jobs <- l.batch
	l.batch, l.bytes = batch{jobs: make([]fileJob, 0, batchFiles)}, 0
}

// flush hands every batch being filled to the workers.
func (p *filePool) flush() {
	for _, l := range p.lanes {
		if len(l.batch.jobs) > 0 {
			p.send(l)
		}
	}
}

// drain hands over the batch being filled and waits until every batch
// handed over is done: no job then holds a directory fd or a name.
func (p *filePool) drain() error {
	p.flush()
	p.pending.Wait()
	return p.Err()
}

// wait lets the workers finish and returns their first error.
func (p *filePool) wait() error {
	p.flush()
	for _, l := range p.lanes {
		close(l.jobs)
	}
	p.wg.Wait()
	return p.Err()
}
