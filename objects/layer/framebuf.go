package layer

import (
	"sync"

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
// (Transparent huge pages were measured worse on the benchmark VM: the
// first 2 MiB pages of a process often cost a compaction, 190 ms for 64 MiB.)
// Buffers are never unmapped, only handed to the next frameReader or
// frameWriter: a slice of one can then never outlive its memory.
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
	b, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return make([]byte, 0, n)
	}
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
