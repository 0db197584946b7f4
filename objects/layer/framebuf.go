package layer

import (
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Frame buffers, read and written, are mapped outside the Go heap. In the
// heap, a writer's 64 MiB of them left a commit of 100,000 files (whose
// scan keeps ~40 MB live) so close to the 128 MiB memory limit that the
// collector ran without pause: 0.4 s of its 2.6 s of CPU. From the heap,
// every frame's content and compressed input were zeroed by the runtime over
// their whole capacity (16 MiB, twice what Create's frames fill) and
// faulted in: 23,000 page faults, 8% of a checkout's CPU on tmpfs (perf).
// A fresh mapping is zero already and its untouched pages cost nothing.
// They are mapped in huge pages (mapHuge). Buffers are never unmapped,
// only handed to the next frameReader or frameWriter: a slice of one can
// then never outlive its memory.
const (
	frameOutCap = maxFrame
	frameInCap  = maxFrame + 3*(maxFrame/maxBlock+2) + 32
	// frameOutSize holds the worst case of one compressed frame of
	// frameWriter, so that EncodeAll never grows it.
	frameOutSize = frameSize + frameSize/64 + 1024
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
	return mapHuge(n)
}

// hugePage is the size of a transparent huge page on x86-64 and arm64 (4K).
const hugePage = 2 << 20

// mapHuge maps n bytes, aligned to huge pages and advised to use them
// (transparent huge pages are "madvise" on Debian). On the benchmark VM
// the first touch of a 4 KiB page costs 12-15 µs: touching 64 MiB took
// 190-250 ms, in 2 MiB pages 4-150 ms (the slow end when the kernel
// compacts memory first). Import's faults went from 17,800 to 7,200 and
// its system time halved; a cold checkout took a third less. A buffer is
// filled front to back, so at most one huge page of it is resident but
// unused. An earlier session measured huge pages slower here (a
// compaction before each process's first ones); interleaved runs against
// 4 KiB pages now find them faster for import and checkout alike.
func mapHuge(n int) []byte {
	size := uintptr(n+hugePage-1) &^ (hugePage - 1)
	p, err := unix.MmapPtr(-1, 0, nil, size+hugePage, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return make([]byte, 0, n)
	}
	// Keep the aligned part; give back the slack before and after it.
	start := uintptr(p)
	aligned := (start + hugePage - 1) &^ (hugePage - 1)
	if aligned > start {
		unix.MunmapPtr(p, aligned-start)
	}
	if end := start + size + hugePage; end > aligned+size {
		unix.MunmapPtr(unsafe.Add(p, aligned+size-start), end-(aligned+size))
	}
	b := unsafe.Slice((*byte)(unsafe.Add(p, aligned-start)), size)
	// A hint: 4 KiB pages if refused.
	unix.Madvise(b[:min(size, hugeSpan)], unix.MADV_HUGEPAGE)
	return b[:0:n]
}

// hugeSpan is how much of a buffer is in huge pages: one frame's worth.
// Past it, 4 KiB pages: the zstd decoder writes up to 32 bytes past the
// content it decodes, so a full 8 MiB frame touched the first byte of a
// fifth huge page of its buffer, which the kernel then zeroed whole (and
// this VM's host faulted in whole): 10 of the 50 MiB a checkout's frame
// buffers took, a fifth of the page clearing that was ~18% of a cold
// checkout's CPU (perf).
const hugeSpan = frameSize

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
