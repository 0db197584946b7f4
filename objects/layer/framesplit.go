package layer

import (
	"encoding/binary"
	"fmt"
	"io"
	"slices"

	"github.com/strata-sh/strata/internal/mapfile"
)

// The words of the zstd format (RFC 8878) the splitter reads.
const (
	zstdMagic     = 0xFD2FB528
	skippableMask = 0xFFFFFFF0
	skippableBase = 0x184D2A50
	maxBlock      = 128 << 10
)

// split reads the stream a frame at a time (readFrame) and queues each
// for a decoder, until the first it cannot decode whole: from there on,
// stream has the rest.
func (fr *frameReader) split() {
	defer fr.wg.Done()
	defer func() {
		close(fr.work)
		close(fr.hashq)
		close(fr.order)
	}()
	for {
		f, ok := fr.get()
		if !ok {
			return
		}
		whole, err := fr.readFrameGuarded(f)
		switch {
		case err == io.EOF:
			fr.release(f)
			if fr.hashes() {
				fr.release(f)
			}
			return
		case err != nil:
			f.err = fmt.Errorf("zstd: %w", err)
			fr.deliver(f, true)
			return
		case !whole:
			fr.stream(f)
			return
		}
		if fr.data != nil {
			f.end = fr.pos
		}
		fr.deliver(f, false)
	}
}

// readFrame reads the next frame into f.in. It skips skippable frames,
// returns io.EOF at the end of the stream, and whole=false (f.in holding
// what it read) when the frame is not one to decode whole.
func (fr *frameReader) readFrame(f *frame) (whole bool, err error) {
	for {
		magic, err := fr.read(f, 4)
		if err != nil {
			if err == io.ErrUnexpectedEOF && len(f.in) == 0 {
				err = io.EOF
			}
			return false, err
		}
		m := binary.LittleEndian.Uint32(magic)
		if m&skippableMask == skippableBase {
			size, err := fr.read(f, 4)
			if err != nil {
				return false, err
			}
			n := int(binary.LittleEndian.Uint32(size))
			if k, err := fr.discard(n); err != nil {
				return false, fmt.Errorf("skippable frame: %d of %d bytes: %w", k, n, io.ErrUnexpectedEOF)
			}
			f.in = f.in[:0]
			continue
		}
		if m != zstdMagic {
			return false, nil // let the streaming decoder say what is wrong
		}
		break
	}
	fhd, err := fr.read(f, 1)
	if err != nil {
		return false, err
	}
	d := fhd[0]
	fcsFlag, single, checksum, dictFlag := d>>6, d&0x20 != 0, d&0x04 != 0, d&0x03
	if d&0x08 != 0 || dictFlag != 0 {
		return false, nil // reserved bit, or a dictionary
	}
	if !single {
		if _, err := fr.read(f, 1); err != nil { // window descriptor
			return false, err
		}
	}
	fcsLen := [4]int{0, 2, 4, 8}[fcsFlag]
	if fcsFlag == 0 && single {
		fcsLen = 1
	}
	if fcsLen == 0 {
		return false, nil // content size unknown
	}
	b, err := fr.read(f, fcsLen)
	if err != nil {
		return false, err
	}
	var fcs uint64
	switch fcsLen {
	case 1:
		fcs = uint64(b[0])
	case 2:
		fcs = uint64(binary.LittleEndian.Uint16(b)) + 256
	case 4:
		fcs = uint64(binary.LittleEndian.Uint32(b))
	case 8:
		fcs = binary.LittleEndian.Uint64(b)
	}
	if fcs > maxFrame {
		return false, nil
	}
	f.fcs = int(fcs)
	// An encoder that stores its blocks raw needs 3 bytes per block more
	// than the content; a frame far larger than that is streamed.
	limit := f.fcs + 3*(f.fcs/maxBlock+2) + 32
	// Room for the largest frame this can be, once: growing f.in block
	// by block copied it over and over into fresh pages (4% of a
	// checkout's CPU, perf); pages past what the frame fills are never
	// touched.
	if fr.data == nil && cap(f.in) < limit {
		f.in = slices.Grow(f.in, limit-len(f.in))
	}
	for {
		bh, err := fr.read(f, 3)
		if err != nil {
			return false, err
		}
		h := uint32(bh[0]) | uint32(bh[1])<<8 | uint32(bh[2])<<16
		last, typ, size := h&1 != 0, (h>>1)&3, int(h>>3)
		switch typ {
		case 1: // RLE: one byte repeated size times
			size = 1
		case 3:
			return false, nil // reserved block type
		}
		if size > maxBlock || len(f.in)+size > limit {
			return false, nil
		}
		if _, err := fr.read(f, size); err != nil {
			return false, err
		}
		if last {
			break
		}
	}
	if checksum {
		if _, err := fr.read(f, 4); err != nil {
			return false, err
		}
	}
	return true, nil
}

// read appends the next n bytes of the stream to f.in and returns them.
// Reading a mapping, f.in is the slice of data that ends where the
// splitter is.
func (fr *frameReader) read(f *frame, n int) ([]byte, error) {
	if fr.data != nil {
		if fr.pos+n > fr.populated {
			fr.populate(fr.pos + n)
		}
		start := fr.pos - len(f.in)
		if len(fr.data)-fr.pos < n {
			f.in, fr.pos = fr.data[start:len(fr.data):len(fr.data)], len(fr.data)
			return nil, io.ErrUnexpectedEOF
		}
		fr.pos += n
		f.in = fr.data[start:fr.pos:fr.pos]
		return f.in[len(f.in)-n:], nil
	}
	start := len(f.in)
	f.in = slices.Grow(f.in, n)[:start+n]
	if k, err := io.ReadFull(fr.br, f.in[start:]); err != nil {
		f.in = f.in[:start+k]
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return f.in[start:], nil
}

// populateAhead is how much of a mapped blob the splitter maps at once,
// ahead of where it reads.
const populateAhead = 4 << 20

// populate maps the pages of data from the splitter's position to at
// least end in one call, and up to populateAhead past it: the splitter
// and the decoders, which read what it has read, then find them mapped
// where their reads faulted them in 16 at a time (mapfile.Populate).
func (fr *frameReader) populate(end int) {
	end = min(len(fr.data), max(end, fr.pos+populateAhead))
	mapfile.Populate(fr.data[max(fr.populated, fr.pos):end])
	fr.populated = end
}

// discard passes over the next n bytes of the stream.
func (fr *frameReader) discard(n int) (int, error) {
	if fr.data == nil {
		return fr.br.Discard(n)
	}
	k := min(n, len(fr.data)-fr.pos)
	fr.pos += k
	if k < n {
		return k, io.EOF
	}
	return k, nil
}
