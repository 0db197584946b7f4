package layer

import (
	"archive/tar"
	"encoding/hex"
	"fmt"
	"io"
	"math/bits"
	"runtime"
	"sync"

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
type fileJob struct {
	fd     int
	hdr    *tar.Header
	data   []byte
	buf    *[]byte // data's buffer, back to bufs when written
	digest *string // if set, gets the content's blake3 (for the index)
	how    metaHow // which metadata calls the file still needs
}

// filePool writes regular files' content and metadata on a few
// goroutines, so that the kernel's work of filling files runs on every
// core while the unpacker parses on. The unpacker still creates each file
// (openat O_EXCL, in tar order, through its safe parent fd): a worker only
// writes through that fd, so no path is resolved off the unpacker's
// goroutine and later entries see the file exist.
type filePool struct {
	u     *unpacker
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
				h.Write(j.data)
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
	defer unix.Close(j.fd)
	defer putBuf(j.buf)
	if p.Err() != nil {
		return nil
	}
	for d := j.data; len(d) > 0; {
		n, err := unix.Write(j.fd, d)
		if err != nil {
			return fmt.Errorf("write: %w", err)
		}
		d = d[n:]
	}
	return p.u.metaFD(j.fd, "", j.hdr, false, j.how)
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
	p.batch = append(p.batch, fileJob{fd: fd, hdr: hdr, data: *b, buf: b, digest: digest, how: how})
	p.bytes += len(*b)
	if len(p.batch) >= batchFiles || p.bytes >= batchBytes {
		p.flush()
	}
	return nil
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
