package objects

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand"
	"os"
	"testing"
	"testing/iotest"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
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

// ReceiveLayer checks a layer's diff id as it arrives, whether it gets
// the parallel decoder or, while another layer has it, the streaming
// one; a layer larger than the buffers in flight, in small reads.
func TestReceiveLayerChecksDiffID(t *testing.T) {
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	content := make([]byte, 3*receiveBuf+11)
	rand.New(rand.NewSource(2)).Read(content[:len(content)/2])
	tw.WriteHeader(&tar.Header{Name: "f", Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg})
	tw.Write(content)
	tw.Close()
	diffID := digest.FromBytes(tb.Bytes())
	var zb, gb bytes.Buffer
	zw, _ := zstd.NewWriter(&zb)
	zw.Write(tb.Bytes())
	zw.Close()
	gw := gzip.NewWriter(&gb)
	gw.Write(tb.Bytes())
	gw.Close()
	for _, busy := range []bool{false, true} {
		if busy {
			parallelDecode <- struct{}{}
		}
		for _, c := range []struct {
			mediaType string
			blob      []byte
		}{{ocispec.MediaTypeImageLayerZstd, zb.Bytes()}, {ocispec.MediaTypeImageLayerGzip, gb.Bytes()}} {
			s := newTestStore(t)
			desc := ocispec.Descriptor{MediaType: c.mediaType, Digest: digest.FromBytes(c.blob), Size: int64(len(c.blob))}
			other := digest.FromString("other")
			got, err := s.ReceiveLayer(context.Background(), iotest.HalfReader(bytes.NewReader(c.blob)), desc, []digest.Digest{other})
			if !errors.Is(err, ErrDigestMismatch) || got != diffID || s.Has(desc.Digest) {
				t.Fatalf("%s (parallel decoder busy: %v), wrong diff id: %s %v", c.mediaType, busy, got, err)
			}
			got, err = s.ReceiveLayer(context.Background(), iotest.HalfReader(bytes.NewReader(c.blob)), desc, []digest.Digest{diffID})
			if err != nil || got != diffID || !s.Has(desc.Digest) {
				t.Fatalf("%s (parallel decoder busy: %v): %s %v", c.mediaType, busy, got, err)
			}
			if ents, _ := os.ReadDir(s.TempDir()); len(ents) != 0 {
				t.Fatalf("%d files left in tmp", len(ents))
			}
		}
		if busy {
			<-parallelDecode
		}
	}
}
