package layer

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"strings"
	"testing"
	"unsafe"

	"github.com/klauspost/compress/zstd"
)

// Frame buffers start on a huge page and hold exactly what was asked.
func TestFrameBufHugeAligned(t *testing.T) {
	for _, n := range []int{frameSize, frameOutSize, frameInCap, 1} {
		b := getFrameBuf(n)
		if len(b) != 0 || cap(b) != n {
			t.Fatalf("getFrameBuf(%d): len %d cap %d", n, len(b), cap(b))
		}
		b = b[:n]
		if p := uintptr(unsafe.Pointer(&b[0])); p%hugePage != 0 {
			t.Errorf("getFrameBuf(%d) at %#x, not on a %d-byte boundary", n, p, hugePage)
		}
		for i := 0; i < n; i += 4096 {
			b[i] = 1 // every page is mapped
		}
		b[n-1] = 1
		putFrameBuf(b)
	}
}

// A full frame decoded into a fresh frame buffer takes one frame's worth
// of huge pages, not one more: the decoder writes a few bytes past the
// content, and a huge page there was zeroed (and faulted in) whole.
func TestFrameBufFullFrameHugePages(t *testing.T) {
	// Text like a tar's, whose last block ends in sequences that the
	// decoder copies 16 bytes at a time: it writes past the content.
	r := rand.New(rand.NewSource(1))
	var text bytes.Buffer
	for i := 0; text.Len() < frameSize; i++ {
		fmt.Fprintf(&text, "line %d of the frame: %x\n", i, r.Intn(1000))
	}
	content := text.Bytes()[:frameSize]
	enc := encoders.Get().(*zstd.Encoder)
	frame := enc.EncodeAll(content, nil)
	encoders.Put(enc)
	dec := frameDecoders.Get().(*zstd.Decoder)
	defer frameDecoders.Put(dec)
	out := mapHuge(frameOutCap) // fresh, as a checkout's are: not from the pool
	defer putFrameBuf(out)
	got, err := dec.DecodeAll(frame, out)
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("decode: %v (%d bytes)", err, len(got))
	}
	kb := hugeKB(t, out[:cap(out)])
	if kb == 0 {
		t.Skip("no transparent huge pages here: nothing to count")
	}
	if kb > frameSize>>10 {
		t.Errorf("a frame of %d kB took %d kB of huge pages", frameSize>>10, kb)
	}
}

// hugeKB is the AnonHugePages of the mappings that hold b, from
// /proc/self/smaps.
func hugeKB(t *testing.T, b []byte) int {
	t.Helper()
	return smapsKB(t, b, "AnonHugePages")
}

// smapsKB is the sum of field (Rss, AnonHugePages...) of the mappings
// that hold b, from /proc/self/smaps.
func smapsKB(t *testing.T, b []byte, field string) int {
	t.Helper()
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Skipf("no smaps: %v", err)
	}
	lo := uint64(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
	hi := lo + uint64(len(b))
	in, total := false, 0
	for _, line := range strings.Split(string(smaps), "\n") {
		var start, end uint64
		if _, err := fmt.Sscanf(line, "%x-%x ", &start, &end); err == nil {
			in = start < hi && lo < end
			continue
		}
		var kb int
		if _, err := fmt.Sscanf(line, field+": %d kB", &kb); err == nil && in {
			total += kb
		}
	}
	return total
}
