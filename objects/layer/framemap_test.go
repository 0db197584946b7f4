package layer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"hash"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/mapfile"
)

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
	var single bytes.Buffer
	sw, err := zstd.NewWriter(&single)
	if err != nil {
		t.Fatal(err)
	}
	sw.Write(streamDecode(t, zst))
	sw.Close()
	frames := len(zst)/frameSize + 8 // Create's, and a few small ones at the start
	for _, tc := range []struct {
		name     string
		content  []byte
		streamed bool
	}{
		{"frames", zst, false},
		{"one frame", single.Bytes(), true},
		{"frames, then one frame", append(bytes.Clone(zst), single.Bytes()...), true},
	} {
		name, content := tc.name, tc.content
		p := filepath.Join(t.TempDir(), "blob")
		if err := os.WriteFile(p, content, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, hashBlob := range []bool{false, true} {
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			data := mapZstdBlob(f)
			f.Close()
			if data == nil {
				t.Fatal("not mapped")
			}
			var blob hash.Hash
			if hashBlob {
				blob = sha256.New()
			}
			_, err = extractMapped(context.Background(), data, "", t.TempDir(), ToOverlayLower, nil, blob, false)
			kb := smapsKB(t, data, "Rss")
			mapfile.Unmap(data)
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
