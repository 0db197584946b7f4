package layer

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
)

// frameInput is n bytes that compress unevenly: runs of text and of
// random bytes, so frames finish out of order on different encoders.
func frameInput(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, 0, n)
	for len(b) < n {
		k := min(n-len(b), 1+r.IntN(3<<20))
		if r.IntN(2) == 0 {
			for range k {
				b = append(b, byte(r.Uint32()))
			}
		} else {
			for i := range k {
				b = append(b, "the quick brown fox jumps over the lazy dog "[i%44])
			}
		}
	}
	return b
}

// The layer is the frames of the pieces of the tar frameLens cuts it
// into, each encoded alone, in order, whatever order the encoders finish
// in and however the tar was cut into writes: the blob's bytes depend
// only on the tar.
func TestFrameWriterSameBytesAsSerial(t *testing.T) {
	enc, err := zstd.NewWriter(nil, encoderOptions...)
	if err != nil {
		t.Fatal(err)
	}
	all := frameInput(6*frameSize + 3<<20 + 7)
	// No frame, within the ramp, at a frame's end, a last frame too
	// small to split, and one split in two.
	for _, n := range []int{0, 1000, firstFrame, 7 << 20, 6*frameSize + 12345, len(all)} {
		src := all[:n]
		var want []byte
		off := 0
		for _, k := range frameLens(n) {
			want = enc.EncodeAll(src[off:off+k], want)
			off += k
		}
		if off != n {
			t.Fatalf("frameLens(%d) adds up to %d", n, off)
		}
		var got bytes.Buffer
		fw := newFrameWriter(&got)
		for p := src; len(p) > 0; {
			k := min(len(p), 1+rand.IntN(3<<20)) // writes of any size, across frames
			if n, err := fw.Write(p[:k]); n != k || err != nil {
				t.Fatalf("Write: %d of %d bytes, %v", n, k, err)
			}
			p = p[k:]
		}
		if err := fw.Close(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("%d bytes: frame writer wrote %d bytes, serial encoding %d, not the same", n, got.Len(), len(want))
		}
		if fw.DiffID() != digest.FromBytes(src) || fw.size != int64(n) {
			t.Fatalf("diff id %s size %d, want %s %d", fw.DiffID(), fw.size, digest.FromBytes(src), n)
		}
	}
}

// Frames ramp up from firstFrame to frameSize, and a last frame of
// splitMin or more is cut in two.
func TestFrameLens(t *testing.T) {
	const M = 1 << 20
	for n, want := range map[int][]int{
		0:                   {0},
		M:                   {M},
		M + 1:               {M, 1},
		7 * M:               {M, 2 * M, 4 * M},
		15 * M:              {M, 2 * M, 4 * M, 8 * M},
		15*M + 3:            {M, 2 * M, 4 * M, 8 * M, 3},
		10*M + 1:            {M, 2 * M, 4 * M, 3 * M / 2, 3*M/2 + 1},
		15*M + 2*M:          {M, 2 * M, 4 * M, 8 * M, M, M},
		7*M + frameSize + M: {M, 2 * M, 4 * M, 8 * M, M},
	} {
		got := frameLens(n)
		if !slices.Equal(got, want) {
			t.Errorf("frameLens(%d) = %v, want %v", n, got, want)
		}
	}
}

type failAfter struct {
	n   int
	err error
}

func (w *failAfter) Write(p []byte) (int, error) {
	if w.n == 0 {
		return 0, w.err
	}
	w.n--
	return len(p), nil
}

// A write error reaches Write or Close, and with more frames than
// buffers nothing waits forever for a buffer the failed writer held.
func TestFrameWriterWriteError(t *testing.T) {
	boom := errors.New("disk full")
	fw := newFrameWriter(&failAfter{n: 1, err: boom})
	src := frameInput(frameSize)
	var werr error
	for range 12 {
		if _, werr = fw.Write(src); werr != nil {
			break
		}
	}
	if err := fw.Close(); !errors.Is(err, boom) || (werr != nil && !errors.Is(werr, boom)) {
		t.Fatalf("Write: %v, Close: %v, want %v", werr, err, boom)
	}
}
