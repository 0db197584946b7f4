package layer

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
)

// mappedFrameRead reads blob, from a file, through a mapped frame reader:
// the content, its hash and the blob's.
func mappedFrameRead(t *testing.T, blob []byte) (content []byte, hashed, blobHashed digest.Digest, err error) {
	t.Helper()
	data, _ := mappedBlob(t, blob)
	h, b := sha256.New(), sha256.New()
	fr := newMappedFrameReader(data, h, b)
	content, err = io.ReadAll(fr)
	// After an error the hasher may still be writing h and b: Close
	// waits for it (the blob is whole only at io.EOF).
	fr.Close()
	return content, digest.NewDigest(digest.SHA256, h), digest.NewDigest(digest.SHA256, b), err
}

// TestMappedFramesAtLimits: frames at the sizes where the mapped reader
// changes course (maxFrame decoded whole, one byte more streamed; raw
// blocks at the splitter's size limit; empty and one-byte frames) read
// as one streaming decoder reads them, and hash the whole blob; frames
// whose header lies about their content size fail.
func TestMappedFramesAtLimits(t *testing.T) {
	enc, err := zstd.NewWriter(nil, zstd.WithWindowSize(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	random := func(n int) []byte {
		b := make([]byte, n)
		rand.Read(b)
		return b
	}
	for name, blob := range map[string][]byte{
		"maxFrame, raw blocks":     enc.EncodeAll(random(maxFrame), nil),
		"maxFrame+1, streamed":     enc.EncodeAll(random(maxFrame+1), nil),
		"maxFrame, one RLE run":    enc.EncodeAll(make([]byte, maxFrame), nil),
		"full, 1 byte, empty, 300": slicesConcat(enc.EncodeAll(random(maxFrame), nil), enc.EncodeAll(random(1), nil), enc.EncodeAll(nil, nil), enc.EncodeAll(random(300), nil)),
	} {
		t.Run(name, func(t *testing.T) {
			d, err := zstd.NewReader(bytes.NewReader(blob), zstd.WithDecoderMaxWindow(maxWindow))
			if err != nil {
				t.Fatal(err)
			}
			want, err := io.ReadAll(d)
			d.Close()
			if err != nil {
				t.Fatal(err)
			}
			got, hashed, blobHashed, err := mappedFrameRead(t, blob)
			if err != nil || !bytes.Equal(got, want) || hashed != digest.FromBytes(want) || blobHashed != digest.FromBytes(blob) {
				t.Fatalf("%d bytes (%v), content hash right: %v, blob hash right: %v; want %d bytes",
					len(got), err, hashed == digest.FromBytes(want), blobHashed == digest.FromBytes(blob), len(want))
			}
		})
	}
	frame := enc.EncodeAll(random(5000), nil)
	if frame[4]>>6 != 1 {
		t.Fatalf("frame header %#x: not the 2-byte content size this test changes", frame[4])
	}
	at := 6 // after the magic, the header byte and the window byte
	if frame[4]&0x20 != 0 {
		at = 5 // a single segment: no window byte
	}
	for _, delta := range []int{-1, 1, 100000} {
		b := bytes.Clone(frame)
		fcs := int(binary.LittleEndian.Uint16(b[at:])) + 256 + delta
		if delta == 100000 {
			b[4] = b[4]&0x3f | 2<<6 // a 4-byte size
			b = slicesConcat(b[:at], binary.LittleEndian.AppendUint32(nil, uint32(fcs)), b[at+2:])
		} else {
			binary.LittleEndian.PutUint16(b[at:], uint16(fcs-256))
		}
		if _, _, _, err := mappedFrameRead(t, b); err == nil {
			t.Errorf("a frame whose header says %+d bytes read without error", delta)
		}
	}
}

func slicesConcat(bs ...[]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}
