package objects

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// A gzip twin record reads back while its gzip blob is stored, a gzip
// stream of the size it gives; it reads as none if the size differs, if
// the blob is no gzip stream (the zstd layer itself, say), once that
// blob is gone or the record is cut, and goes with its layer
// (RemoveLayerIndex, and PruneLayerIndexes once the layer is gone).
func TestGzipTwinRecord(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	put := func(b string) digest.Digest {
		t.Helper()
		d := digest.FromString(b)
		if _, err := s.Put(ctx, bytes.NewReader([]byte(b)), d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	var gzBytes bytes.Buffer
	zw := gzip.NewWriter(&gzBytes)
	zw.Write([]byte("a tar"))
	zw.Close()
	zl, gz := put("zstd layer"), put(gzBytes.String())
	gzSize := int64(gzBytes.Len())
	gzDesc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: gz, Size: gzSize}
	diffID := digest.FromString("tar")
	if _, _, ok := s.GzipTwin(zl); ok {
		t.Fatal("a twin read back before any was recorded")
	}
	if err := s.RecordGzipTwin(zl, gzDesc, diffID); err != nil {
		t.Fatal(err)
	}
	got, gotDiffID, ok := s.GzipTwin(zl)
	if !ok || got.Digest != gz || got.Size != gzSize || got.MediaType != ocispec.MediaTypeImageLayerGzip || gotDiffID != diffID {
		t.Fatalf("twin read back as %+v %s %v, want %s (%d bytes) %s", got, gotDiffID, ok, gz, gzSize, diffID)
	}
	whole, err := os.ReadFile(s.gzipTwinPath(zl))
	if err != nil {
		t.Fatal(err)
	}
	for _, cut := range []string{"", string(whole[:30]), string(whole[:len(whole)-1]), string(whole[:len(whole)-3]) + "\n"} {
		if err := os.WriteFile(s.gzipTwinPath(zl), []byte(cut), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, _, ok := s.GzipTwin(zl); ok {
			t.Errorf("record %q read as a twin", cut)
		}
	}
	lying := gzDesc
	lying.Size++
	notGzip := put("not gzip at all")
	for why, rec := range map[string]ocispec.Descriptor{
		"giving its blob another size than it has": lying,
		"naming the zstd layer itself":             {MediaType: ocispec.MediaTypeImageLayerGzip, Digest: zl, Size: int64(len("zstd layer"))},
		"naming a blob that is no gzip stream":     {MediaType: ocispec.MediaTypeImageLayerGzip, Digest: notGzip, Size: int64(len("not gzip at all"))},
	} {
		if err := s.RecordGzipTwin(zl, rec, diffID); err != nil {
			t.Fatal(err)
		}
		if _, _, ok := s.GzipTwin(zl); ok {
			t.Errorf("a twin record %s read back", why)
		}
	}
	// Another layer's gzip blob, of the right size and a gzip stream: its
	// own diff id record says it holds another tar.
	var otherBytes bytes.Buffer
	zw = gzip.NewWriter(&otherBytes)
	zw.Write([]byte("another tar"))
	zw.Close()
	otherZl, otherGz := put("another zstd layer"), put(otherBytes.String())
	otherDesc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: otherGz, Size: int64(otherBytes.Len())}
	if err := s.RecordGzipTwin(otherZl, otherDesc, digest.FromString("another tar")); err != nil {
		t.Fatal(err)
	}
	planted := fmt.Sprintf("%s %d %s\n", otherGz, otherDesc.Size, diffID)
	if err := os.WriteFile(s.gzipTwinPath(zl), []byte(planted), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, _, ok := s.GzipTwin(zl); ok {
		t.Errorf("a twin record naming another layer's gzip blob read back: %s", got.Digest)
	}
	// A twin recorded by an older strata: no diff id record of its gzip
	// blob to agree with.
	if err := s.RecordGzipTwin(zl, gzDesc, diffID); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(s.diffIDPath(gz)); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := s.GzipTwin(zl); ok {
		t.Error("a twin record whose gzip blob has no diff id record read back")
	}

	if err := s.RecordGzipTwin(zl, gzDesc, diffID); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(s.BlobPath(gz)); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := s.GzipTwin(zl); ok {
		t.Error("a twin whose gzip blob is gone read back")
	}
	if err := s.RemoveLayerIndex(zl); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.gzipTwinPath(zl)); !os.IsNotExist(err) {
		t.Errorf("RemoveLayerIndex left the twin record: %v", err)
	}
	if err := s.RecordGzipTwin(zl, gzDesc, diffID); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(s.BlobPath(zl)); err != nil {
		t.Fatal(err)
	}
	if err := s.PruneLayerIndexes(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.gzipTwinPath(zl)); !os.IsNotExist(err) {
		t.Errorf("PruneLayerIndexes left the twin record of a layer no longer stored: %v", err)
	}
}
