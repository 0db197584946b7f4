package layer

import (
	"hash"
	"runtime/debug"

	"github.com/klauspost/compress/zstd"
	"github.com/strata-sh/strata/internal/mapfile"
)

// newMappedFrameReader reads the blob mapped at data (mapfile.Map) in
// place: frames are decoded from the mapping, not copied out of it first.
// On this VM a process's first touch of fresh memory costs about 0.5 ms a
// MiB, so the copy's buffers were a sixth of a checkout's CPU (perf),
// more than the copy itself. If blob is set, another goroutine writes all
// of data to it, beside the decoding: it is complete when Read returns
// io.EOF. A fault reading data (the file shrank) fails the read with
// mapfile.ErrFault.
func newMappedFrameReader(data []byte, h, blob hash.Hash) *frameReader {
	return startFrameReader(&frameReader{data: data, h: h, blob: blob})
}

// decodeFrame decodes the frame in into out. A mapped frame's pages
// leave the resident set once decoded: a 10 GB layer's unpack must not
// hold its whole blob.
func (fr *frameReader) decodeFrame(d *zstd.Decoder, in, out []byte) (_ []byte, err error) {
	if fr.data == nil {
		return d.DecodeAll(in, out)
	}
	defer mapfile.Guard(&err)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	out, err = d.DecodeAll(in, out)
	mapfile.Drop(in)
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

// hashBlob writes data to blob, dropping the pages it is done with.
func (fr *frameReader) hashBlob() {
	defer fr.wg.Done()
	defer close(fr.blobHashed)
	defer mapfile.Guard(&fr.blobErr)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	const chunk = 4 << 20
	for off := 0; off < len(fr.data); off += chunk {
		select {
		case <-fr.stop:
			fr.blobErr = errFrameReaderClosed
			return
		default:
		}
		b := fr.data[off:min(off+chunk, len(fr.data))]
		fr.blob.Write(b)
		mapfile.Drop(b)
	}
}
