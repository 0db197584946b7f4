package layer

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"hash"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/mapfile"
)

// oneFileBlob is a zstd blob of one frame of known size: a tar of /f
// holding content.
func oneFileBlob(t *testing.T, content []byte) []byte {
	t.Helper()
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	if err := tw.WriteHeader(&tar.Header{Name: "f", Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	tw.Write(content)
	tw.Close()
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	return enc.EncodeAll(tb.Bytes(), nil)
}

// rewritingHash is the blob's hasher, and at its first write, before it
// hashes anything, another process's rewrite of the blob file in place:
// the frame was decoded from the file's old bytes, it hashes the new.
type rewritingHash struct {
	hash.Hash
	t       *testing.T
	path    string
	content []byte
	done    bool
}

func (h *rewritingHash) Write(b []byte) (int, error) {
	if !h.done {
		h.done = true
		f, err := os.OpenFile(h.path, os.O_WRONLY, 0)
		if err != nil {
			h.t.Fatal(err)
		}
		if _, err := f.WriteAt(h.content, 0); err != nil {
			h.t.Fatal(err)
		}
		f.Close()
	}
	return h.Hash.Write(b)
}

// TestExtractKnownFileRewritten: a blob rewritten in place while a
// checkout reads it (the store is writable to another process) is
// refused, though what the hasher read at last is the blob the digest
// names: the frames were decoded from other bytes. Before, the tree
// unpacked from the other bytes was accepted as the digest's.
func TestExtractKnownFileRewritten(t *testing.T) {
	good, bad := make([]byte, 64<<10), make([]byte, 64<<10)
	// Random bytes are stored raw, but for a rare short match: the
	// rewrite keeps the size, as a size check would otherwise see it.
	var goodBlob, badBlob []byte
	for range 100 {
		rand.Read(good)
		rand.Read(bad)
		if goodBlob, badBlob = oneFileBlob(t, good), oneFileBlob(t, bad); len(badBlob) == len(goodBlob) {
			break
		}
	}
	if len(goodBlob) != len(badBlob) {
		t.Fatalf("blobs of %d and %d bytes: the rewrite must keep the size", len(goodBlob), len(badBlob))
	}
	p := blobFile(t, badBlob)
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := &rewritingHash{Hash: sha256.New(), t: t, path: p, content: goodBlob}
	dst := t.TempDir()
	err = ExtractKnownFile(context.Background(), f, h, "", dst, Apply)
	if !h.done {
		t.Fatal("the blob was not hashed from its mapping")
	}
	got, _ := os.ReadFile(filepath.Join(dst, "f"))
	if err == nil && digest.NewDigest(digest.SHA256, h) == digest.FromBytes(goodBlob) {
		t.Fatalf("a blob rewritten while read was accepted as %s, its tree holding the other bytes (%v)",
			digest.FromBytes(goodBlob), bytes.Equal(got, bad))
	}
	if !errors.Is(err, mapfile.ErrFault) {
		t.Errorf("a blob rewritten while read: %v, want mapfile.ErrFault", err)
	}
}
