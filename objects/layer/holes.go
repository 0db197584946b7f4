package layer

import (
	"bytes"
	"fmt"

	"github.com/strata-sh/strata/internal/pagewrite"
	"golang.org/x/sys/unix"
)

// holeBlock is the unit of the holes a large file is unpacked with: a
// block of this many zero bytes, at an offset that is a multiple of it,
// is not written. A sparse file (a disk image, lastlog) reaches a layer
// as its zeros, and writing them made every snapshot of a 1 GiB file
// with 5 bytes of data take 1 GiB of disk. Blocks this large keep the
// writes of an ordinary file whole: its short runs of zeros (padding in
// a binary) are written as they are.
const holeBlock = 64 << 10

var zeroHole [holeBlock]byte

// pwriteHoles writes b at off in fd, a file created empty by this
// unpack, leaving each whole zero block unwritten: it reads as zeros
// and takes no disk. A piece that starts or ends inside a block (pieces
// follow the layer's frames) leaves its part of that block unwritten
// too when it is all zeros: written, the two parts of a zero block that
// spans two pieces took a block of disk at every frame (8 MiB a GiB).
// The caller sets the file's size at the end (setSize), for a file
// that ends in a hole.
func pwriteHoles(fd int, b []byte, off int64) error {
	if r := int(off % holeBlock); r != 0 {
		if n := min(holeBlock-r, len(b)); zeroed(b[:n]) {
			b, off = b[n:], off+int64(n)
		}
	}
	if r := int((off + int64(len(b))) % holeBlock); r != 0 {
		if n := min(r, len(b)); zeroed(b[len(b)-n:]) {
			b = b[:len(b)-n]
		}
	}
	for len(b) > 0 {
		n := dataRun(b, off)
		if err := pagewrite.Pwrite(fd, b[:n], off); err != nil {
			return err
		}
		b, off = b[n:], off+int64(n)
		for len(b) >= holeBlock && off%holeBlock == 0 && bytes.Equal(b[:holeBlock], zeroHole[:]) {
			b, off = b[holeBlock:], off+holeBlock
		}
	}
	return nil
}

// dataRun is how many bytes of b, which goes at off, come before its
// first whole zero block. Data is told from zeros by its first bytes,
// so an ordinary file costs one short compare per block.
func dataRun(b []byte, off int64) int {
	i := 0
	for i < len(b) {
		next := i + holeBlock - int((off+int64(i))%holeBlock)
		if next > len(b) {
			return len(b)
		}
		if next-i == holeBlock && bytes.Equal(b[i:next], zeroHole[:]) {
			return i
		}
		i = next
	}
	return i
}

// zeroed says whether b, at most a block, is all zeros.
func zeroed(b []byte) bool { return bytes.Equal(b, zeroHole[:len(b)]) }

// setSize gives fd, written by pwriteHoles, its full size: a trailing
// hole was never written.
func setSize(fd int, size int64) error {
	if err := unix.Ftruncate(fd, size); err != nil {
		return fmt.Errorf("truncate: %w", err)
	}
	return nil
}
