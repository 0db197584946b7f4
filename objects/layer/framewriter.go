package layer

import (
	"crypto/sha256"
	"hash"
	"io"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
)

// frameSize is how much tar one zstd frame holds. Frames are independent,
// so they are compressed on all cores and decompressed the same way
// (frameReader), as pzstd does; concatenated they are one valid zstd
// stream that any decoder reads. 8 MiB, zstd's default window: a Debian
// minbase layer is 84.3 MB, 0.6% larger than one frame would make it and
// 0.8% smaller than `zstd -3` makes it (85.0 MB); 16 MiB frames were 1%
// smaller still but took import's peak RSS from 90 to 142 MB.
const frameSize = 8 << 20 // and the ramp below

var encoderOptions = []zstd.EOption{zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1),
	zstd.WithZeroFrames(true), zstd.WithEncoderCRC(false), zstd.WithLowerEncoderMem(true)}

// encoders are reused: each holds a few MiB of match tables.
var encoders = sync.Pool{New: func() any {
	// SpeedDefault is zstd level 3's equivalent; SpeedFastest made layers
	// 6% larger than `zstd -3`. One goroutine per encoder: the frames are
	// the parallelism. No frame checksums: a blob is named by its sha256
	// and the tar inside by its diff id, both always checked. Lower
	// memory: smaller block buffers, the same bytes
	// (TestEncoderLowMemSameBytes). A frame is no larger than the window,
	// so EncodeAll keeps no history buffer: it encodes the chunk where it
	// lies (third_party/compress/STRATA.md).
	e, err := zstd.NewWriter(nil, encoderOptions...)
	if err != nil {
		panic(err) // only bad options fail
	}
	return e
}}

// The first frames are smaller, 1, 2 and 4 MiB: compression starts
// once the walk has written 1 MiB of tar instead of 8, and both cores
// are busy within a few milliseconds (a Debian import left one idle for
// the first ~45 ms, the walk filling the first frames). The last frame,
// if 2 MiB or more, is cut in two halves compressed on two cores, so the
// run does not end on one core compressing up to 8 MiB alone. Both rules
// depend only on the tar, so the blob's bytes still do (frameLens).
const (
	firstFrame = 1 << 20
	splitMin   = 2 << 20
)

// frameCap is the tar size of frame i but the last.
func frameCap(i int) int { return min(frameSize, firstFrame<<min(i, 8)) }

// frameLens is the tar size of each frame of an n-byte tar.
func frameLens(n int) []int {
	var lens []int
	for i := 0; n > 0 || i == 0; i++ {
		k := min(n, frameCap(i))
		if k < frameCap(i) && k >= splitMin {
			return append(lens, k/2, k-k/2)
		}
		lens = append(lens, k)
		n -= k
	}
	return lens
}

// chunk is the tar of one frame on its way to being compressed. Its tar
// buffer goes back to the writer as soon as it is hashed and compressed;
// the frame's buffer once the frame is written. So a frame that waits for
// an earlier one to be written, in order, holds no tar buffer: the walk
// goes on filling the next while the slower frame is compressed.
type chunk struct {
	buf  []byte        // tar bytes, in mem
	mem  *tarBuf       // the buffer (the two halves of a split frame share it)
	out  []byte        // the compressed frame
	done chan struct{} // closed when out is ready
}

// tarBuf is a tar buffer and its users left: the hasher and the
// compressor of each chunk in it.
type tarBuf struct {
	b    []byte
	refs atomic.Int32
}

// frameWriter compresses what is written to it into independent zstd
// frames on all cores, writes them in order to out on a goroutine of its
// own, and hashes the uncompressed bytes (the diff id) on another. Memory
// stays bounded: workers+2 tar buffers and workers+2 frame buffers.
type frameWriter struct {
	out   io.Writer
	bufs  chan []byte // free tar buffers
	outs  chan []byte // free frame buffers
	work  chan *chunk
	hashq chan *chunk
	outq  chan *chunk
	cur   *chunk
	sent  int // chunks sent
	size  int64
	h     hash.Hash
	wg    sync.WaitGroup
	mu    sync.Mutex
	err   error
}

func newFrameWriter(out io.Writer) *frameWriter {
	workers := min(max(runtime.GOMAXPROCS(0), 1), 8)
	// One tar buffer filling, one per encoder, one more for the hasher
	// to lag by; as many frame buffers, so an encoder that finished
	// early starts the next frame while an earlier one is still
	// compressed. Buffers are made on first use: a small layer makes few.
	n := workers + 2
	f := &frameWriter{
		out: out, h: sha256.New(),
		bufs: make(chan []byte, n), outs: make(chan []byte, n),
		// A queued chunk holds a tar buffer (work, hashq) or one of either
		// (outq), so these never fill: send does not block.
		work: make(chan *chunk, n), hashq: make(chan *chunk, n), outq: make(chan *chunk, 2*n),
	}
	for range n {
		f.bufs <- nil
		f.outs <- nil
	}
	f.wg.Add(workers + 2)
	for range workers {
		go f.compress()
	}
	go f.hash()
	go f.write()
	return f
}

func (f *frameWriter) compress() {
	defer f.wg.Done()
	enc := encoders.Get().(*zstd.Encoder)
	defer encoders.Put(enc)
	for {
		// The frame buffer is taken before the chunk: the oldest chunk
		// being compressed always has one, so the in-order writer always
		// gets to free the rest.
		out := <-f.outs
		c, ok := <-f.work
		if !ok {
			f.outs <- out
			return
		}
		if cap(out) == 0 {
			// Sized for the worst case, so EncodeAll never grows it:
			// growing it in steps left garbage that took import's peak
			// RSS from 90 to 130 MB. Its untouched pages cost no RSS.
			out = getFrameBuf(frameOutSize)
		}
		c.out = enc.EncodeAll(c.buf, out[:0])
		close(c.done)
		f.release(c)
	}
}

func (f *frameWriter) hash() {
	defer f.wg.Done()
	for c := range f.hashq {
		f.h.Write(c.buf)
		f.release(c)
	}
}

func (f *frameWriter) write() {
	defer f.wg.Done()
	for c := range f.outq {
		<-c.done
		if f.Err() == nil {
			if _, err := f.out.Write(c.out); err != nil {
				f.setErr(err)
			}
		}
		f.outs <- c.out[:0]
		c.out = nil
	}
}

// release returns c's tar buffer once both the hasher and the compressor
// are done with it.
func (f *frameWriter) release(c *chunk) {
	if c.mem.refs.Add(-1) == 0 {
		f.bufs <- c.mem.b[:0]
	}
}

func (f *frameWriter) setErr(err error) {
	f.mu.Lock()
	if f.err == nil {
		f.err = err
	}
	f.mu.Unlock()
}

// Err is the first error of the underlying writer so far.
func (f *frameWriter) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

func (f *frameWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		b, err := f.space()
		if err != nil {
			return n, err
		}
		k := copy(b, p)
		f.wrote(k)
		n, p = n+k, p[k:]
	}
	return n, nil
}

// space is the free rest of the current chunk, never empty: a caller
// may read into it directly, then call wrote, saving a copy of the data.
func (f *frameWriter) space() ([]byte, error) {
	if err := f.Err(); err != nil {
		return nil, err
	}
	if f.cur == nil {
		f.cur = f.newChunk()
	}
	c := f.cur
	return c.buf[len(c.buf):cap(c.buf)], nil
}

// wrote adds the first n bytes of space to the current chunk.
func (f *frameWriter) wrote(n int) {
	c := f.cur
	c.buf = c.buf[:len(c.buf)+n]
	f.size += int64(n)
	if len(c.buf) == cap(c.buf) {
		f.send(c)
	}
}

func (f *frameWriter) newChunk() *chunk {
	buf := <-f.bufs
	if cap(buf) == 0 {
		buf = getFrameBuf(frameSize)
	}
	return &chunk{buf: buf[:0:frameCap(f.sent)], mem: &tarBuf{b: buf}, done: make(chan struct{})}
}

// send hands chunks of the current buffer to the compressors, the
// hasher and the writer. The queues have room for every chunk that can
// be in flight, so this never blocks.
func (f *frameWriter) send(cs ...*chunk) {
	f.cur = nil
	f.sent += len(cs)
	// Every user is counted before any can release the buffer.
	cs[0].mem.refs.Store(int32(2 * len(cs)))
	for _, c := range cs {
		f.outq <- c
		f.hashq <- c
		f.work <- c
	}
}

// Close compresses what is left, waits for every frame to be written and
// returns the first error.
func (f *frameWriter) Close() error {
	switch c := f.cur; {
	case c == nil && f.sent == 0:
		f.send(f.newChunk()) // an empty stream still gets one (empty) frame
	case c == nil || len(c.buf) == 0 && f.sent > 0:
		// Nothing left (space was asked for but not written to).
	case len(c.buf) >= splitMin:
		h := len(c.buf) / 2
		second := &chunk{buf: c.buf[h:], mem: c.mem, done: make(chan struct{})}
		c.buf = c.buf[:h:h]
		f.send(c, second)
	default:
		f.send(c)
	}
	close(f.work)
	close(f.hashq)
	close(f.outq)
	f.wg.Wait()
	f.freeBuffers()
	return f.Err()
}

// freeBuffers gives the buffers back for the next writer or reader; every
// goroutine that used them has returned.
func (f *frameWriter) freeBuffers() {
	if c := f.cur; c != nil && len(c.buf) == 0 && f.sent > 0 {
		f.bufs <- c.mem.b[:0] // asked for, never sent
	}
	f.cur = nil
	for {
		select {
		case b := <-f.bufs:
			putFrameBuf(b)
		case b := <-f.outs:
			putFrameBuf(b)
		default:
			return
		}
	}
}

// DiffID is the sha256 of everything written; valid after Close.
func (f *frameWriter) DiffID() digest.Digest { return digest.NewDigest(digest.SHA256, f.h) }
