package snapshot

import (
	"io"
	"sync"
)

// readAhead reads r in its own goroutine, up to depth blocks ahead, so
// that hashing and decompressing a layer overlap with writing its files
// (as zstd and tar do in a shell pipeline). Close stops the reader.
type readAhead struct {
	blocks chan []byte
	free   chan []byte
	err    error  // set before blocks is closed
	cur    []byte // unread part of blk
	blk    []byte
	stop   chan struct{}
	once   sync.Once
}

func newReadAhead(r io.Reader, size, depth int) *readAhead {
	ra := &readAhead{blocks: make(chan []byte, depth), free: make(chan []byte, depth+2), stop: make(chan struct{})}
	for i := 0; i < depth+2; i++ {
		ra.free <- make([]byte, size)
	}
	go func() {
		defer close(ra.blocks)
		for {
			var buf []byte
			select {
			case buf = <-ra.free:
			case <-ra.stop:
				return
			}
			n, err := io.ReadFull(r, buf[:cap(buf)])
			if n > 0 {
				select {
				case ra.blocks <- buf[:n]:
				case <-ra.stop:
					return
				}
			}
			if err == io.ErrUnexpectedEOF {
				err = io.EOF
			}
			if err != nil {
				ra.err = err
				return
			}
		}
	}()
	return ra
}

func (ra *readAhead) Read(p []byte) (int, error) {
	for len(ra.cur) == 0 {
		if ra.blk != nil {
			ra.free <- ra.blk[:cap(ra.blk)]
			ra.blk = nil
		}
		b, ok := <-ra.blocks
		if !ok {
			return 0, ra.err
		}
		ra.cur, ra.blk = b, b
	}
	n := copy(p, ra.cur)
	ra.cur = ra.cur[n:]
	return n, nil
}

// Close stops the goroutine; the underlying reader is the caller's to close.
func (ra *readAhead) Close() { ra.once.Do(func() { close(ra.stop) }) }
