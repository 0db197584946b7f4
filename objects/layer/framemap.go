package layer

import (
	"hash"
	"runtime/debug"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"
	"github.com/strata-sh/strata/internal/mapfile"
)

// newMappedFrameReader reads the blob mapped at data (mapfile.Map) in
// place: frames are decoded from the mapping, not copied out of it first.
// On this VM a process's first touch of fresh memory costs about 0.5 ms a
// MiB, so the copy's buffers were a sixth of a checkout's CPU (perf),
// more than the copy itself. If blob is set, the hasher writes all of
// data to it, a frame at a time once the frame is decoded (hashBlob): it
// is complete when Read returns io.EOF. A fault reading data (the file
// shrank) fails the read with mapfile.ErrFault.
func newMappedFrameReader(data []byte, h, blob hash.Hash) *frameReader {
	return startFrameReader(&frameReader{data: data, h: h, blob: blob})
}

// decodeFrame decodes the frame in into out. A mapped frame's pages
// leave the resident set once decoded, or once hashed if the blob is
// (hashBlob): a 10 GB layer's unpack must not hold its whole blob.
func (fr *frameReader) decodeFrame(d *zstd.Decoder, in, out []byte) (_ []byte, err error) {
	if fr.data == nil {
		return d.DecodeAll(in, out)
	}
	defer mapfile.Guard(&err)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	out, err = d.DecodeAll(in, out)
	if fr.blob == nil {
		mapfile.Drop(in)
	}
	return out, err
}

// readFrameGuarded is readFrame, reading a mapping safely.
func (fr *frameReader) readFrameGuarded(f *frame) (whole bool, err error) {
	if fr.data == nil {
		return fr.readFrame(f)
	}
	defer mapfile.Guard(&err)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	return fr.readFrame(f)
}

// hashBlob writes data up to end to blob, from where it got to, and
// drops those pages. The hasher calls it for each frame once decoded, in
// order, so it reads pages the decoder faulted in and left mapped: a
// blob hashed on a goroutine of its own, beside the decoders, faulted
// every page in twice and dropped it twice, as the two went their own
// ways. After a fault, or once the reader is closed, it hashes no more:
// blobErr says why.
func (fr *frameReader) hashBlob(end int) {
	if fr.blobErr != nil {
		return
	}
	defer mapfile.Guard(&fr.blobErr)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	const chunk = 4 << 20
	for fr.blobPos < end {
		select {
		case <-fr.stop:
			fr.blobErr = errFrameReaderClosed
			return
		default:
		}
		b := fr.data[fr.blobPos:min(fr.blobPos+chunk, end)]
		fr.blob.Write(b)
		mapfile.Drop(b)
		fr.blobPos += len(b)
	}
}

// mappedRest is the rest of a mapped blob, from start, as the streaming
// decoder reads it (on a goroutine of its own): end says how far it
// has read, so that the hasher can hash the blob that far beside it.
type mappedRest struct {
	r     *mapfile.Reader
	start int
	n     atomic.Int64
}

func (m *mappedRest) Read(p []byte) (int, error) {
	n, err := m.r.Read(p)
	m.n.Add(int64(n))
	return n, err
}

// end is where in data the decoder has read to.
func (m *mappedRest) end() int { return m.start + int(m.n.Load()) }
