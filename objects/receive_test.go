package objects

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"runtime"
	"testing"
	"testing/iotest"

	"github.com/opencontainers/go-digest"
)

// A blob larger than the buffers in flight and than a writeback step
// arrives whole, in small reads as a socket gives them.
func TestReceiveLargeBlob(t *testing.T) {
	s := newTestStore(t)
	b := make([]byte, 2*writeback+receiveBuf*3/2+7)
	rand.New(rand.NewSource(1)).Read(b)
	d := digest.FromBytes(b)
	desc, err := s.Receive(context.Background(), iotest.HalfReader(bytes.NewReader(b)), d)
	if err != nil {
		t.Fatal(err)
	}
	if desc.Digest != d || desc.Size != int64(len(b)) {
		t.Fatalf("stored %s (%d bytes), want %s (%d)", desc.Digest, desc.Size, d, len(b))
	}
	got, err := os.ReadFile(s.BlobPath(d))
	if err != nil || !bytes.Equal(got, b) {
		t.Fatalf("stored blob differs (%v)", err)
	}
	if fi, _ := os.Stat(s.BlobPath(d)); fi.Mode().Perm() != 0o444 {
		t.Fatalf("blob mode %v, want read-only", fi.Mode())
	}
	if left := tempFiles(t, s); len(left) != 0 {
		t.Fatalf("left in tmp/: %v", left)
	}
}

func TestReceiveRefusesMismatchAndErrors(t *testing.T) {
	s := newTestStore(t)
	b := bytes.Repeat([]byte("strata"), receiveBuf)
	want := digest.FromBytes(b)
	other := append(bytes.Clone(b[:len(b)-1]), 'x')
	if _, err := s.Receive(context.Background(), bytes.NewReader(other), want); !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("receive of other bytes: %v, want a digest mismatch", err)
	}
	boom := errors.New("connection reset")
	r := io.MultiReader(bytes.NewReader(b[:receiveBuf+10]), iotest.ErrReader(boom))
	if _, err := s.Receive(context.Background(), r, want); !errors.Is(err, boom) {
		t.Fatalf("receive cut short: %v, want %v", err, boom)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Receive(ctx, bytes.NewReader(b), want); !errors.Is(err, context.Canceled) {
		t.Fatalf("receive after cancel: %v", err)
	}
	if s.Has(want) {
		t.Fatal("blob stored by a failed receive")
	}
	if left := tempFiles(t, s); len(left) != 0 {
		t.Fatalf("left in tmp/: %v", left)
	}
}

// A small blob takes one read buffer, from a pool: receives of many small
// blobs (a clone of a long history) must not make eight 1 MiB buffers
// each, which kept the collector busy for over half a clone's CPU.
func TestReceiveSmallBlobsShareBuffers(t *testing.T) {
	s := newTestStore(t)
	const n = 50
	blobs := make([][]byte, n)
	for i := range blobs {
		blobs[i] = []byte(fmt.Sprintf("small blob %d", i))
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for _, b := range blobs {
		if _, err := s.Receive(context.Background(), bytes.NewReader(b), digest.FromBytes(b)); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / n; per > receiveBuf/2 {
		t.Fatalf("each receive of a small blob allocated %d bytes", per)
	}
}
