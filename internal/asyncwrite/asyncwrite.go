// Package asyncwrite moves the writes to an io.Writer onto a goroutine of
// their own, through a few bounded buffers, so that a producer (say, a
// decompressor) and a slow consumer (say, hashing and a file write) use two
// cores instead of taking turns on one.
package asyncwrite

import (
	"io"
	"sync"
)

// Writer is an io.WriteCloser; Close waits for every write to finish and
// returns the first error the underlying writer gave.
type Writer struct {
	w     io.Writer
	full  chan []byte
	free  chan []byte
	done  chan struct{}
	mu    sync.Mutex
	err   error
	close sync.Once
}

// New starts a Writer with n buffers of size bytes in flight at most.
func New(w io.Writer, n, size int) *Writer {
	a := &Writer{w: w, full: make(chan []byte, n), free: make(chan []byte, n), done: make(chan struct{})}
	for i := 0; i < n; i++ {
		a.free <- make([]byte, 0, size)
	}
	go a.drain()
	return a
}

func (a *Writer) drain() {
	defer close(a.done)
	for b := range a.full {
		if a.Err() == nil {
			if _, err := a.w.Write(b); err != nil {
				a.mu.Lock()
				a.err = err
				a.mu.Unlock()
			}
		}
		a.free <- b[:0]
	}
}

// Err is the first error of the underlying writer so far.
func (a *Writer) Err() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}

// Write copies p into buffers handed to the writing goroutine.
func (a *Writer) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		if err := a.Err(); err != nil {
			return n, err
		}
		b := <-a.free
		k := copy(b[:cap(b)], p)
		a.full <- b[:k]
		n, p = n+k, p[k:]
	}
	return n, nil
}

// Close flushes what is in flight and stops the goroutine.
func (a *Writer) Close() error {
	a.close.Do(func() { close(a.full) })
	<-a.done
	return a.Err()
}
