package objects

import (
	"bytes"
	"context"
	"errors"
	"math/rand"
	"os"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/opencontainers/go-digest"
)

// useFdatasync stands f in for fdatasync for the test.
func useFdatasync(t *testing.T, f func(int) error) {
	old := fdatasync
	fdatasync = f
	t.Cleanup(func() { fdatasync = old })
}

// TestBlobWriterFlushesAsItWrites: a blob of several writeback steps is
// flushed while it is written, both through Write (import, commit) and
// through Receive (clone, pull), and is stored whole.
func TestBlobWriterFlushesAsItWrites(t *testing.T) {
	var flushes atomic.Int32
	useFdatasync(t, func(fd int) error { flushes.Add(1); return syscall.Fdatasync(fd) })
	b := make([]byte, 3*writeback+5)
	rand.New(rand.NewSource(2)).Read(b)
	d := digest.FromBytes(b)
	for _, way := range []string{"write", "receive"} {
		t.Run(way, func(t *testing.T) {
			s := newTestStore(t)
			flushes.Store(0)
			var err error
			if way == "write" {
				_, err = s.Put(context.Background(), bytes.NewReader(b), d)
			} else {
				_, err = s.Receive(context.Background(), bytes.NewReader(b), d)
			}
			if err != nil {
				t.Fatal(err)
			}
			if n := flushes.Load(); n < 1 || n > 3 {
				t.Errorf("%d background flushes for %d writeback steps, want 1 to 3", n, 3)
			}
			if got, err := os.ReadFile(s.BlobPath(d)); err != nil || !bytes.Equal(got, b) {
				t.Fatalf("stored blob differs (%v)", err)
			}
		})
	}
}

// TestBlobWriterReportsAFailedFlush: the kernel reports a writeback error
// to one fsync of an open file only, so an error met by a background
// flush must fail the commit itself, and nothing is stored.
func TestBlobWriterReportsAFailedFlush(t *testing.T) {
	useFdatasync(t, func(int) error { return syscall.EIO })
	b := bytes.Repeat([]byte("strata"), 2*writeback/6+1)
	d := digest.FromBytes(b)
	for _, way := range []string{"write", "receive"} {
		t.Run(way, func(t *testing.T) {
			s := newTestStore(t)
			var err error
			if way == "write" {
				_, err = s.Put(context.Background(), bytes.NewReader(b), d)
			} else {
				_, err = s.Receive(context.Background(), bytes.NewReader(b), d)
			}
			if !errors.Is(err, syscall.EIO) {
				t.Fatalf("commit after a failed flush: %v, want EIO", err)
			}
			if s.Has(d) {
				t.Fatal("blob stored after a failed flush")
			}
			if left := tempFiles(t, s); len(left) != 0 {
				t.Fatalf("left in tmp/: %v", left)
			}
		})
	}
}
