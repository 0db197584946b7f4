package layer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"reflect"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/mapfile"
	"github.com/strata-sh/strata/objects/layer/layertest"
)

// A blob in a file is mapped when it is zstd (frames decoded in place)
// and streamed otherwise; either way Extract gives the tree, diff id and
// index it gives from a stream, and ExtractKnownFile hashes every byte of
// the file.
func TestExtractFromFile(t *testing.T) {
	requireRoot(t)
	src, zst, res := largeLayer(t)
	tarball := streamDecode(t, zst)
	wantDiff, wantIndex, err := Index(bytes.NewReader(tarball))
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(tarball)
	zw.Close()
	for name, blob := range map[string][]byte{"frames": zst, "one frame": streamedFrame(t, tarball), "gzip": gz.Bytes(), "tar": tarball,
		"a skippable frame first (pzstd)": append(skippableFrame(), zst...)} {
		t.Run(name, func(t *testing.T) {
			p := blobFile(t, blob)
			open := func() *os.File {
				f, err := os.Open(p)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { f.Close() })
				return f
			}
			dst := t.TempDir()
			diff, index, err := Extract(context.Background(), open(), "", dst, Apply)
			if err != nil {
				t.Fatal(err)
			}
			if diff != wantDiff || !reflect.DeepEqual(index, wantIndex) {
				t.Errorf("diff id %s, %d entries; Index: %s, %d entries", diff, len(index), wantDiff, len(wantIndex))
			}
			layertest.Compare(t, src, dst)
			dst = t.TempDir()
			if diff, err := ExtractUnindexed(context.Background(), open(), "", dst, Apply); err != nil || diff != wantDiff {
				t.Errorf("unindexed: diff id %s (%v), want %s", diff, err, wantDiff)
			}
			layertest.Compare(t, src, dst)
			dst = t.TempDir()
			h := sha256.New()
			if err := ExtractKnownFile(context.Background(), open(), h, "", dst, Apply); err != nil {
				t.Fatal(err)
			}
			if got, want := digest.NewDigest(digest.SHA256, h), digest.FromBytes(blob); got != want {
				t.Errorf("known file: blob hashed as %s, it is %s", got, want)
			}
			layertest.Compare(t, src, dst)
		})
	}
	if res.DiffID != wantDiff {
		t.Fatalf("Create said %s", res.DiffID)
	}
}

// A blob file cut short while mapped (pages past its new end fault) fails
// the unpack with mapfile.ErrFault: no crash, for the frames, the blob
// hash and the streamed rest alike.
func TestExtractMappedBlobCutShort(t *testing.T) {
	requireRoot(t)
	_, zst, _ := largeLayer(t)
	for name, blob := range map[string][]byte{"frames": zst, "one frame": streamedFrame(t, streamDecode(t, zst))} {
		for _, hashBlob := range []bool{false, true} {
			data, p := mappedBlob(t, blob)
			if err := os.Truncate(p, 8192); err != nil {
				t.Fatal(err)
			}
			var h = sha256.New()
			if !hashBlob {
				h = nil
			}
			_, err := extractMapped(context.Background(), data, "", t.TempDir(), Apply, sha256.New(), h, false)
			if !errors.Is(err, mapfile.ErrFault) {
				t.Errorf("%s (blob hashed: %v): %v, want mapfile.ErrFault", name, hashBlob, err)
			}
		}
	}
}

// A decoder reading a frame whose pages are gone fails with
// mapfile.ErrFault. (The splitter, which reads every block header first,
// faults before any decoder in TestExtractMappedBlobCutShort.)
func TestDecodeMappedFrameCutShort(t *testing.T) {
	_, zst, _ := largeLayer(t)
	data, p := mappedBlob(t, zst)
	if err := os.Truncate(p, 8192); err != nil {
		t.Fatal(err)
	}
	d := frameDecoders.Get().(*zstd.Decoder) // not put back: it stopped halfway
	fr := &frameReader{data: data}
	if _, err := fr.decodeFrame(d, data, nil); !errors.Is(err, mapfile.ErrFault) {
		t.Fatalf("decoding a frame cut short: %v, want mapfile.ErrFault", err)
	}
}
