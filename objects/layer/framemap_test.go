package layer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"hash"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/mapfile"
)

// blobFile writes blob to a new file, writable (a test may cut it short
// or rewrite it), and returns its path.
func blobFile(t *testing.T, blob []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "blob")
	if err := os.WriteFile(p, blob, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// mappedBlob maps blob from a new file (blobFile), as Extract maps a blob
// file, until the test ends; path is the file, for a test to cut short.
func mappedBlob(t *testing.T, blob []byte) (data []byte, path string) {
	t.Helper()
	path = blobFile(t, blob)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if data, err = mapfile.Map(f); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mapfile.Unmap(data) })
	return data, path
}

// A mapped blob's pages leave the resident set once decoded, and once
// hashed when the blob is: a 10 GB layer's unpack must not hold its
// whole blob. What may stay is a page at each end of a frame, and what
// a streamed frame's reader read since it last dropped. The blob
// hashed beside the decoders has the blob's digest, whether its frames
// are decoded whole or streamed (another tool's single frame, alone or
// after whole ones).
func TestExtractMappedDropsBlob(t *testing.T) {
	requireRoot(t)
	_, zst, _ := largeLayer(t)
	single := streamedFrame(t, streamDecode(t, zst))
	frames := len(zst)/frameSize + 8 // Create's, and a few small ones at the start
	for _, tc := range []struct {
		name     string
		content  []byte
		streamed bool
	}{
		{"frames", zst, false},
		{"one frame", single, true},
		{"frames, then one frame", append(bytes.Clone(zst), single...), true},
	} {
		name, content := tc.name, tc.content
		for _, hashBlob := range []bool{false, true} {
			data, _ := mappedBlob(t, content)
			var blob hash.Hash
			if hashBlob {
				blob = sha256.New()
			}
			_, err := extractMapped(context.Background(), data, "", t.TempDir(), ToOverlayLower, nil, blob, false)
			kb := smapsKB(t, data, "Rss")
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if hashBlob && digest.NewDigest(digest.SHA256, blob) != digest.FromBytes(content) {
				t.Errorf("%s: blob hashed as %s, want %s", name, digest.NewDigest(digest.SHA256, blob), digest.FromBytes(content))
			}
			limit := 2 * 4 * frames
			if tc.streamed && !hashBlob {
				limit += 4 << 10 // mapfile.Reader drops every 4 MiB
			}
			if kb > limit {
				t.Errorf("%s, blob hashed: %v: %d kB of the %d kB blob still resident, want %d kB at most", name, hashBlob, kb, len(content)>>10, limit)
			}
		}
	}
}
