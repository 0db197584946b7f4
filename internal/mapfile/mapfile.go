package mapfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ErrFault is what a read of a mapping returns when its file lost the
// pages read (it was truncated while mapped) or the kernel could not read
// them (an I/O error).
var ErrFault = errors.New("mapped file changed or unreadable while read")

// Stamp is what a write to a file moves: its size, and its mtime and
// ctime, which change with the bytes even when the size does not.
type Stamp struct {
	size         int64
	mtime, ctime unix.Timespec
}

// StampOf returns f's Stamp. Taken before f is mapped and compared after
// its mapping is read, it shows whether a write(2) or truncate changed
// the bytes in between: two reads of one mapping (a decoder's, then a
// hasher's) can see two contents. A kernel with multigrain timestamps
// (Linux 6.13: ext4, xfs, btrfs, tmpfs) gives a write after this
// stat a ctime of its own; others may miss a write in the same tick.
// A write through another writable mapping moves no time until written
// back, which nothing here can see.
func StampOf(f *os.File) (Stamp, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return Stamp{}, fmt.Errorf("stat %s: %w", f.Name(), err)
	}
	return Stamp{size: st.Size, mtime: st.Mtim, ctime: st.Ctim}, nil
}

// Unchanged returns ErrFault if f's Stamp is no longer s.
func Unchanged(f *os.File, s Stamp) error {
	now, err := StampOf(f)
	if err != nil {
		return err
	}
	if now != s {
		return fmt.Errorf("%s: %w", f.Name(), ErrFault)
	}
	return nil
}

// Map maps the whole of f, a regular file, read-only. An empty file maps
// to an empty slice, which Unmap accepts.
func Map(f *os.File) ([]byte, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("map %s: not a regular file", f.Name())
	}
	if fi.Size() == 0 {
		return []byte{}, nil
	}
	if fi.Size() != int64(int(fi.Size())) {
		return nil, fmt.Errorf("map %s: too large", f.Name())
	}
	b, err := unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("map %s: %w", f.Name(), err)
	}
	return b, nil
}

// Unmap unmaps b, as Map returned it. No slice of it may be used after.
func Unmap(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	return unix.Munmap(b)
}

// page is the size of a memory page (Drop's unit).
const page = 4096

// Drop tells the kernel that the pages wholly inside b, a part of a
// mapping, are not needed for now: they leave the process's resident set
// (the page cache keeps them). A later read of them faults them back in,
// so Drop never changes what b holds.
func Drop(b []byte) {
	if len(b) < 2*page {
		return
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	start := (p + page - 1) &^ (page - 1)
	end := (p + uintptr(len(b))) &^ (page - 1)
	if end <= start {
		return
	}
	unix.Madvise(b[start-p:end-p], unix.MADV_DONTNEED)
}

// Populate maps every page b touches, a part of a mapping, in one call
// (MADV_POPULATE_READ), where reading them faults them in a few at a
// time: populating an 84 MB blob mapped from tmpfs and dropping it
// again took 9 ms of CPU here, faulting it in by reads 23 ms (medians of
// 8 runs). It is a hint: on a kernel before 5.14, or for pages the file
// no longer has, it does nothing, and a read of them faults as before.
func Populate(b []byte) {
	if len(b) == 0 {
		return
	}
	// From the start of the page b starts in: the mapping begins on a
	// page, so that page is in it.
	lead := int(uintptr(unsafe.Pointer(unsafe.SliceData(b))) % page)
	start := unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), -lead)
	unix.Madvise(unsafe.Slice((*byte)(start), lead+len(b)), unix.MADV_POPULATE_READ)
}

// Guard, deferred first in a function that reads a mapping (with
// debug.SetPanicOnFault(true) deferred after it), turns a fault there
// into ErrFault in *err. Any other panic goes on.
func Guard(err *error) {
	v := recover()
	if v == nil {
		return
	}
	if _, fault := v.(interface{ Addr() uintptr }); !fault {
		panic(v)
	}
	*err = ErrFault
}

// Reader reads a mapping as an io.Reader, on whatever goroutine calls
// Read: each Read guards its own copy. What it has read leaves the
// resident set (Drop) every dropEvery bytes: a blob streamed through it
// (a zstd stream of one frame) is never resident whole.
type Reader struct {
	b       []byte // the part of a mapping read
	off     int    // how much of it Read has given
	dropped int    // before this, the pages are dropped
}

// dropEvery is how much a Reader reads between two Drops.
const dropEvery = 4 << 20

// NewReader returns a Reader of b, a part of a mapping.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

func (r *Reader) Read(p []byte) (n int, err error) {
	if r.off == len(r.b) {
		return 0, io.EOF
	}
	defer Guard(&err)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	n = copy(p, r.b[r.off:])
	r.off += n
	if r.off-r.dropped >= dropEvery {
		Drop(r.b[r.dropped:r.off])
		// The page r.off is in may hold bytes not read yet: it is
		// dropped with the next.
		r.dropped = r.off - page
	}
	return n, nil
}
