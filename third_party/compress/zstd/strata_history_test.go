package zstd

// strata's tests of its changes to this copy (STRATA.md); the module's own
// tests are not copied.

import (
	"archive/tar"
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// goTreeTar is a tar of real files, those of GOROOT/src, up to n bytes.
func goTreeTar(t *testing.T, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	root := filepath.Join(runtime.GOROOT(), "src")
	errFull := io.EOF
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		if buf.Len() >= n {
			return errFull
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: p, Mode: 0o644, Size: int64(len(data))}); err != nil {
			return err
		}
		_, err = tw.Write(data)
		return err
	})
	if err != nil && err != errFull {
		t.Fatal(err)
	}
	if buf.Len() < n {
		t.Fatalf("GOROOT/src gave %d bytes of tar, want %d", buf.Len(), n)
	}
	return buf.Bytes()[:n]
}

func strataEncoder(t *testing.T, level EncoderLevel) *Encoder {
	t.Helper()
	e, err := NewWriter(nil, WithEncoderLevel(level), WithEncoderConcurrency(1),
		WithZeroFrames(true), WithEncoderCRC(false), WithLowerEncoderMem(true))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// encodeFrames encodes each of lens' slices of src in turn with one
// encoder, copying each input first and then spoiling the copy, so an
// encoder that kept a borrowed input would show it in a later frame.
func encodeFrames(t *testing.T, level EncoderLevel, src []byte, lens []int, copyHist bool) [][]byte {
	t.Helper()
	defer func(old bool) { copyHistory = old }(copyHistory)
	copyHistory = copyHist
	e := strataEncoder(t, level)
	var outs [][]byte
	off := 0
	for _, n := range lens {
		in := bytes.Clone(src[off : off+n])
		outs = append(outs, e.EncodeAll(in, nil))
		for i := range in {
			in[i] = 0xa5
		}
		off = (off + n) % (len(src) - 9<<20)
	}
	return outs
}

func sameFrames(t *testing.T, what string, got, want [][]byte) {
	t.Helper()
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("%s: frame %d: %d bytes with the input borrowed as history, %d copied, not the same", what, i, len(got[i]), len(want[i]))
		}
	}
}

// EncodeAll encodes its input in place (borrowHist) and writes the same
// bytes as when it copies it into its history, the module's way: frames
// of every size (one block, many, a window's, more than a window), in a
// row on one encoder, for each level.
func TestBorrowedHistorySameBytes(t *testing.T) {
	src := goTreeTar(t, 40<<20)
	lens := []int{8 << 20, 8<<20 - 1, 3 << 20, 1000, 128<<10 + 1, 8<<20 + 1, 9 << 20, 5 << 20, 1 << 20, 16, 200 << 10}
	for _, level := range []EncoderLevel{SpeedFastest, SpeedDefault, SpeedBetterCompression} {
		sameFrames(t, level.String(), encodeFrames(t, level, src, lens, false), encodeFrames(t, level, src, lens, true))
	}
}

// Each EncodeAll moves the encoder's offsets on by a window and its
// input. Past bufferReset they start again; that must come at the same
// frame, with the same tables, whether the input was borrowed or copied.
func TestBorrowedHistoryPastBufferReset(t *testing.T) {
	src := goTreeTar(t, 12<<20)
	lens := make([]int, 300) // 300 windows of 8 MiB pass MaxInt32
	for i := range lens {
		lens[i] = 128<<10 + 1 + i*97
	}
	got, want := encodeFrames(t, SpeedDefault, src, lens, false), encodeFrames(t, SpeedDefault, src, lens, true)
	sameFrames(t, "default", got, want)
}

// A frame the window holds is not copied: the encoder allocates no
// history buffer of a window for it (strata's import took 2 of them,
// 16 MiB of fresh pages to zero, and copied every byte it compressed).
func TestBorrowedHistoryAllocatesNoWindow(t *testing.T) {
	src := goTreeTar(t, 8<<20)
	e := strataEncoder(t, SpeedDefault)
	dst := make([]byte, 0, e.MaxEncodedSize(len(src)))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	e.EncodeAll(src, dst) // a new encoder: its tables and blocks, ~1.5 MiB
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 4<<20 {
		t.Fatalf("a new encoder's first 8 MiB frame allocated %d bytes, want under 4 MiB", n)
	}
}
