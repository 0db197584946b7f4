package layer

import (
	"testing"
	"unsafe"
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
