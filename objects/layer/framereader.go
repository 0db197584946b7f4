package layer

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash"
	"io"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"
	"github.com/strata-sh/strata/internal/mapfile"
)

// maxFrame is the largest frame content decoded whole, in parallel: twice
// what Create writes. Larger frames (a layer from `zstd` or another tool
// is often one frame of unknown size) are streamed.
const maxFrame = 2 * frameSize

var frameDecoders = sync.Pool{New: func() any {
	d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxFrame),
		zstd.WithDecoderMaxWindow(maxWindow))
	if err != nil {
		panic(err) // only bad options fail
	}
	return d
}}

// frame is one zstd frame on its way through a frameReader, or a piece of
// the streamed rest of the blob.
type frame struct {
	in   []byte // the compressed frame
	fcs  int    // its content size
	end  int    // mapped and decoded whole: where in data the frame ends
	out  []byte
	err  error
	done chan struct{} // closed when out or err is set
	refs atomic.Int32
}

// frameReader decompresses a zstd stream on every core when it is made
// of frames of known size, as Create writes them: one goroutine splits
// the stream at frame boundaries (reading only frame and block headers),
// decoders decode whole frames at once, and Read hands their content out
// in order. If h is set, another goroutine hashes the content, in order;
// it is complete when Read returns io.EOF. (That goroutine also hashes a
// mapped blob: framemap.go.)
// From the first frame it cannot decode whole (no content size, too
// large, a dictionary, anything odd), the rest of the stream goes through
// one streaming decoder, so any valid zstd stream reads as before and
// any invalid one fails with that decoder's error.
type frameReader struct {
	br   *bufio.Reader // the stream, unless mapped
	data []byte        // the mapped blob, if mapped
	pos  int           // how far the splitter has read data
	// populated is how far data is mapped ahead of the splitter
	// (populate).
	populated int
	blob      hash.Hash // if mapped: every byte of data goes to it
	// blobPos is how much of data blob has; blobErr says why it
	// stopped short of the end. Both are the hasher's until hashed is
	// closed.
	blobPos int
	blobErr error
	h       hash.Hash
	free    chan *frame
	order   chan *frame
	work    chan *frame
	hashq   chan *frame
	hashed  chan struct{} // closed when the hasher is done
	stop    chan struct{}
	wg      sync.WaitGroup
	frames  []*frame // all of them, to give their buffers back on Close
	cur     *frame
	off     int
	// next, if set, is called by Read before it waits for the next
	// frame: the unpacker hands over the files it holds frames for.
	next func()
	err  error
	once sync.Once
}

func newFrameReader(r io.Reader, h hash.Hash) *frameReader {
	return startFrameReader(&frameReader{br: bufio.NewReaderSize(r, 256<<10), h: h})
}

func startFrameReader(fr *frameReader) *frameReader {
	workers := min(max(runtime.GOMAXPROCS(0), 1), 8)
	n := framesInFlight(workers)
	fr.free, fr.order, fr.work, fr.hashq = make(chan *frame, n), make(chan *frame, n), make(chan *frame, n), make(chan *frame, n)
	fr.hashed, fr.stop = make(chan struct{}), make(chan struct{})
	fr.frames = make([]*frame, n)
	for i := range fr.frames {
		f := &frame{out: getFrameBuf(frameOutCap)}
		if fr.data == nil {
			f.in = getFrameBuf(frameInCap)
		}
		fr.frames[i] = f
		fr.free <- f
	}
	fr.wg.Add(workers + 2)
	for range workers {
		go fr.decode()
	}
	go fr.hash()
	go fr.split()
	return fr
}

// framesInFlight is how many frames a reader with that many decoders
// holds: one for each decoder, the one being read, and one that the file
// pool may still be writing content from (span). Each is 8 MiB of fresh
// memory that the kernel zeroes on first touch: on the benchmark VM 0.2
// ms a MiB while the host keeps the pages, 3.5 once it has taken them
// back (perf). A second frame for the pool cost an unpack of the Debian
// tree 0 to 19 ms of CPU (medians of six interleaved sets) and gained no
// wall time on tmpfs, ext4 or 100,000 small files. A job holding a frame the reader
// needs is written by a worker that waits for nothing the reader does,
// so fewer frames can slow the decoders but not stop them.
func framesInFlight(decoders int) int { return decoders + 2 }

func (fr *frameReader) decode() {
	defer fr.wg.Done()
	d := frameDecoders.Get().(*zstd.Decoder)
	for f := range fr.work {
		if cap(f.out) < f.fcs {
			f.out = make([]byte, 0, max(f.fcs, frameSize))
		}
		f.out, f.err = fr.decodeFrame(d, f.in, f.out[:0])
		if f.err == nil && len(f.out) != f.fcs {
			f.err = fmt.Errorf("zstd frame holds %d bytes, its header says %d", len(f.out), f.fcs)
		}
		if errors.Is(f.err, mapfile.ErrFault) {
			d = nil // stopped halfway: not to be used again
		}
		close(f.done)
		if d == nil {
			break
		}
	}
	if d != nil {
		frameDecoders.Put(d)
	}
	for f := range fr.work { // after a fault: fail what is left
		f.err = fmt.Errorf("zstd: %w", mapfile.ErrFault)
		close(f.done)
	}
}

func (fr *frameReader) hash() {
	defer fr.wg.Done()
	defer close(fr.hashed)
	for f := range fr.hashq {
		<-f.done
		if f.err == nil && fr.h != nil {
			fr.h.Write(f.out)
		}
		if fr.blob != nil && f.end > 0 {
			fr.hashBlob(f.end)
		}
		fr.release(f)
	}
	if fr.blob != nil {
		fr.hashBlob(len(fr.data)) // what no frame decoded whole held
	}
}

// hashes says whether the hasher takes every frame, in order.
func (fr *frameReader) hashes() bool {
	return fr.h != nil || fr.blob != nil
}

func (fr *frameReader) release(f *frame) {
	if f.refs.Add(-1) == 0 {
		fr.free <- f
	}
}

// get waits for a free frame; false once the reader is closed.
func (fr *frameReader) get() (*frame, bool) {
	select {
	case f := <-fr.free:
		f.in, f.out, f.err, f.fcs, f.end = f.in[:0], f.out[:0], nil, 0, 0
		if fr.data != nil {
			f.in = nil // read makes it a slice of data
		}
		f.done = make(chan struct{})
		f.refs.Store(1)
		if fr.hashes() {
			f.refs.Store(2)
		}
		return f, true
	case <-fr.stop:
		return nil, false
	}
}

// deliver queues f for Read (and the hasher); decoded says f needs no
// decoder.
func (fr *frameReader) deliver(f *frame, decoded bool) {
	fr.order <- f
	if fr.hashes() {
		fr.hashq <- f
	}
	if decoded {
		close(f.done)
	} else {
		fr.work <- f
	}
}

// stream decodes what is left of the stream, from the frame whose first
// bytes f holds, with one streaming decoder, in pieces of frameSize.
func (fr *frameReader) stream(f *frame) {
	var rest io.Reader
	var mapped *mappedRest
	if fr.data != nil {
		start := fr.pos - len(f.in)
		mapped = &mappedRest{r: mapfile.NewReader(fr.data[start:]), start: start}
		rest = mapped
	} else {
		rest = io.MultiReader(bytes.NewReader(bytes.Clone(f.in)), fr.br)
	}
	fr.release(f)
	if fr.hashes() {
		fr.release(f)
	}
	d, err := zstd.NewReader(rest,
		zstd.WithDecoderConcurrency(2), zstd.WithDecoderMaxWindow(maxWindow))
	if err != nil {
		if f, ok := fr.get(); ok {
			f.err = fmt.Errorf("zstd: %w", err)
			fr.deliver(f, true)
		}
		return
	}
	defer d.Close()
	for {
		f, ok := fr.get()
		if !ok {
			return
		}
		if cap(f.out) < frameSize {
			f.out = make([]byte, 0, frameSize)
		}
		n, err := io.ReadFull(d, f.out[:frameSize])
		f.out = f.out[:n]
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			err = nil
			if n == 0 {
				fr.release(f)
				if fr.hashes() {
					fr.release(f)
				}
				return
			}
		} else if err != nil {
			f.out, f.err = f.out[:0], fmt.Errorf("zstd: %w", err)
		}
		if mapped != nil {
			f.end = mapped.end() // the hasher keeps pace
		}
		fr.deliver(f, true)
		if f.err != nil {
			return
		}
	}
}

func (fr *frameReader) Read(p []byte) (int, error) {
	for fr.cur == nil || fr.off == len(fr.cur.out) {
		if fr.err != nil {
			return 0, fr.err
		}
		if fr.cur != nil {
			fr.release(fr.cur)
			fr.cur = nil
		}
		if fr.next != nil {
			fr.next()
		}
		f, ok := <-fr.order
		if !ok {
			<-fr.hashed // h and blob hold everything before EOF is said
			fr.err = io.EOF
			if fr.blobErr != nil {
				fr.err = fmt.Errorf("zstd: %w", fr.blobErr)
			}
			return 0, fr.err
		}
		<-f.done
		if f.err != nil {
			fr.err = f.err
			fr.release(f)
			return 0, fr.err
		}
		fr.cur, fr.off = f, 0
	}
	n := copy(p, fr.cur.out[fr.off:])
	fr.off += n
	return n, nil
}

// WriteTo hands out whole frames without a copy in between.
func (fr *frameReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if fr.cur == nil || fr.off == len(fr.cur.out) {
			if _, err := fr.Read(nil); err != nil {
				if err == io.EOF {
					err = nil
				}
				return total, err
			}
		}
		n, err := w.Write(fr.cur.out[fr.off:])
		fr.off += n
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
}

// Close stops the goroutines and waits for them: the underlying reader
// is not read after Close returns, and is the caller's to close.
func (fr *frameReader) Close() error {
	fr.once.Do(func() {
		// Queues hold every frame there is, so nothing blocks on a send:
		// the splitter stops at its next frame or read.
		close(fr.stop)
		fr.wg.Wait()
		fr.cur, fr.err = nil, errFrameReaderClosed
		// The goroutines are done, and so is every user of content
		// taken in place (Unpack waits for its pool before returning).
		for _, f := range fr.frames {
			if fr.data == nil && cap(f.in) == frameInCap {
				putFrameBuf(f.in)
			}
			if cap(f.out) == frameOutCap {
				putFrameBuf(f.out)
			}
			f.in, f.out = nil, nil
		}
	})
	return nil
}

// errFrameReaderClosed is what Read returns after Close.
var errFrameReaderClosed = errors.New("zstd: reader closed")

// span hands out up to n bytes of content in place, in the buffer of the
// frame they are in, with a reference on that frame that the caller
// drops with release once done with them: file content goes from the
// decoder's buffer to write(2) without a copy. io.EOF at the end.
func (fr *frameReader) span(n int64) ([]byte, *frame, error) {
	if fr.cur == nil || fr.off == len(fr.cur.out) {
		if _, err := fr.Read(nil); err != nil {
			return nil, nil, err
		}
	}
	k := int(min(n, int64(len(fr.cur.out)-fr.off)))
	b := fr.cur.out[fr.off : fr.off+k : fr.off+k]
	fr.off += k
	fr.cur.refs.Add(1)
	return b, fr.cur, nil
}

// skip passes over up to n bytes of content and says how many it passed;
// fewer only at the end of the stream.
func (fr *frameReader) skip(n int64) (int64, error) {
	var done int64
	for done < n {
		if fr.cur == nil || fr.off == len(fr.cur.out) {
			if _, err := fr.Read(nil); err != nil {
				if err == io.EOF {
					err = nil
				}
				return done, err
			}
		}
		k := int(min(n-done, int64(len(fr.cur.out)-fr.off)))
		fr.off += k
		done += int64(k)
	}
	return done, nil
}
