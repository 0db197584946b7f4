package layer

import (
	"sync"

	"golang.org/x/sys/unix"
)

// Frame buffers are mapped outside the Go heap, with transparent huge
// pages where the kernel allows them. From the heap, every frame's 8 MiB
// of content and its compressed input were zeroed by the runtime and
// faulted in 4 KiB at a time: 20,000 page faults and 8% of a checkout's
// CPU on tmpfs (perf). A mapping is zero already, its untouched pages
// cost nothing, and a huge page is one fault for 2 MiB.
// Buffers are never unmapped, only handed to the next frameReader: a
// slice of one can then never outlive its memory.
const (
	frameOutCap = maxFrame
	frameInCap  = maxFrame + 3*(maxFrame/maxBlock+2) + 32
)

var frameBufs struct {
	sync.Mutex
	free map[int][][]byte // by capacity
}

// getFrameBuf returns an empty buffer of capacity n.
func getFrameBuf(n int) []byte {
	frameBufs.Lock()
	if l := frameBufs.free[n]; len(l) > 0 {
		b := l[len(l)-1]
		frameBufs.free[n] = l[:len(l)-1]
		frameBufs.Unlock()
		return b[:0]
	}
	frameBufs.Unlock()
	b, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return make([]byte, 0, n)
	}
	_ = unix.Madvise(b, unix.MADV_HUGEPAGE) // a hint: without it, 4 KiB pages
	return b[:0]
}

// putFrameBuf gives b back for another frameReader.
func putFrameBuf(b []byte) {
	if b == nil {
		return
	}
	frameBufs.Lock()
	if frameBufs.free == nil {
		frameBufs.free = map[int][][]byte{}
	}
	frameBufs.free[cap(b)] = append(frameBufs.free[cap(b)], b[:0])
	frameBufs.Unlock()
}
