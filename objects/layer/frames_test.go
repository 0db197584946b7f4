package layer

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/objects/layer/layertest"
)

// largeLayer is a layer of about 30 MiB of tar: four frames or more.
func largeLayer(t *testing.T) (src string, blob []byte, res Result) {
	t.Helper()
	src = t.TempDir()
	layertest.BuildLarge(t, src, 30<<20)
	blob, res = create(t, src, WriteOptions{})
	n, err := layertest.Frames(bytes.NewReader(blob))
	if err != nil {
		t.Fatal(err)
	}
	if n < 4 {
		t.Fatalf("layer of %d bytes has %d zstd frames, want 4 or more", res.Size, n)
	}
	return src, blob, res
}

// streamedFrame is tarball compressed as `zstd` and other tools write
// it: one frame of unknown content size, which the mapped reader streams.
func streamedFrame(t *testing.T, tarball []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := zstd.NewWriter(&b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(tarball); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// streamDecode is the reference: one streaming decoder, no splitting.
func streamDecode(t *testing.T, blob []byte) []byte {
	t.Helper()
	d, err := zstd.NewReader(bytes.NewReader(blob))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	b, err := io.ReadAll(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func frameRead(blob []byte) ([]byte, digest.Digest, error) {
	h := sha256.New()
	fr := newFrameReader(bytes.NewReader(blob), h)
	b, err := io.ReadAll(fr)
	fr.Close() // the hasher may still run after an error
	return b, digest.NewDigest(digest.SHA256, h), err
}

func TestMultiFrameRoundTrip(t *testing.T) {
	requireRoot(t)
	src, blob, res := largeLayer(t)
	want := streamDecode(t, blob)
	if got := digest.FromBytes(want); got != res.DiffID || int64(len(want)) != res.Size {
		t.Fatalf("a streaming decoder reads diff id %s, %d bytes; Create said %s, %d", got, len(want), res.DiffID, res.Size)
	}
	got, hashed, err := frameRead(blob)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) || hashed != res.DiffID {
		t.Fatalf("frame reader: %d bytes hashed %s, want %d bytes %s", len(got), hashed, len(want), res.DiffID)
	}
	dst := t.TempDir()
	unpack(t, blob, dst, Apply)
	layertest.Compare(t, src, dst)
}

// Streams that are not Create's go through the fallback and read the same
// as with one streaming decoder: one frame of unknown size, frames around
// a skippable frame, a frame larger than maxFrame.
func TestFrameReaderForeignStreams(t *testing.T) {
	_, blob, _ := largeLayer(t)
	tarball := streamDecode(t, blob)
	single := streamedFrame(t, tarball)
	big, err := zstd.NewWriter(nil, zstd.WithWindowSize(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	whole := big.EncodeAll(tarball, nil) // one frame, content size > maxFrame
	skippable := []byte{0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 'a', 'b', 'c'}
	half := len(blob) / 2
	for name, stream := range map[string][]byte{
		"one streamed frame":        single,
		"one frame over maxFrame":   whole,
		"skippable frame first":     append(append([]byte{}, skippable...), blob...),
		"ours then a streamed one":  append(append([]byte{}, blob...), single...),
		"streamed then ours":        append(append([]byte{}, single...), blob...),
		"skippable between streams": append(append(append([]byte{}, blob...), skippable...), blob...),
	} {
		t.Run(name, func(t *testing.T) {
			want := streamDecode(t, stream)
			got, hashed, err := frameRead(stream)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) || hashed != digest.FromBytes(want) {
				t.Fatalf("frame reader: %d bytes, hash %s; streaming decoder: %d bytes", len(got), hashed, len(want))
			}
		})
	}
	for name, stream := range map[string][]byte{
		"truncated":     blob[:half],
		"garbage after": append(append([]byte{}, blob...), "garbage"...),
	} {
		t.Run(name, func(t *testing.T) {
			if _, _, err := frameRead(stream); err == nil {
				t.Fatal("read without error")
			}
		})
	}
}

// Frames carry no checksum: a flipped byte either fails to decode or
// changes the content, which the diff id then refuses.
func TestFrameReaderFlippedByte(t *testing.T) {
	_, blob, res := largeLayer(t)
	got, hashed, err := frameRead(flip(blob, len(blob)/2))
	if err == nil && hashed == res.DiffID {
		t.Fatalf("a flipped byte read as the same %d bytes", len(got))
	}
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0xff
	return c
}

// Closing a reader half way stops its goroutines; Read then fails.
func TestFrameReaderClose(t *testing.T) {
	_, blob, _ := largeLayer(t)
	fr := newFrameReader(bytes.NewReader(blob), sha256.New())
	if _, err := io.ReadFull(fr, make([]byte, 10<<20)); err != nil {
		t.Fatal(err)
	}
	fr.Close()
	if _, err := fr.Read(make([]byte, 1)); !errors.Is(err, errFrameReaderClosed) {
		t.Fatalf("Read after Close: %v", err)
	}
}

// The lower-memory encoder must write the same bytes as the default one:
// layers written before and after the change have the same blob digest.
func TestEncoderLowMemSameBytes(t *testing.T) {
	src := make([]byte, frameSize)
	for i := range src {
		// Compressible but not trivial: text-like runs with varied offsets.
		src[i] = byte("the quick brown fox jumps over the lazy dog"[(i*7+i/4096)%43] + byte(i/65536))
	}
	opts := encoderOptions[:len(encoderOptions)-1]
	ref, err := zstd.NewWriter(nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	low, err := zstd.NewWriter(nil, encoderOptions...)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{frameSize, frameSize - 1, 3 << 20, 1000} {
		a, b := ref.EncodeAll(src[:n], nil), low.EncodeAll(src[:n], nil)
		if !bytes.Equal(a, b) {
			t.Fatalf("%d bytes: low-memory encoder wrote %d bytes, default %d, not the same", n, len(b), len(a))
		}
	}
}
