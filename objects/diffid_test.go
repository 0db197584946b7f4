package objects

import (
	"bytes"
	"context"
	"io"
	"os"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/objects/layer"
)

// TestDiffIDRecordWithEveryIndex: every writer of a file index records
// the diff id it verified, and the record goes with the index.
func TestDiffIDRecordWithEveryIndex(t *testing.T) {
	ctx := context.Background()
	src := layerTree(t)
	s := newTestStore(t)
	check := func(what string, l Layer) {
		t.Helper()
		if got := s.VerifiedDiffID(l.Desc.Digest); got != l.DiffID || got == "" {
			t.Errorf("%s: record says %q, the layer's diff id is %s", what, got, l.DiffID)
		}
	}

	fromDir, err := s.AddLayerFromDir(ctx, src, layer.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	check("AddLayerFromDir", fromDir)

	tarball, packed := foreignLayers(t, src)
	blob := packed[ocispec.MediaTypeImageLayerGzip]
	desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: digest.FromBytes(blob), Size: int64(len(blob))}
	added, err := s.AddLayer(ctx, bytes.NewReader(blob), desc, "")
	if err != nil {
		t.Fatal(err)
	}
	check("AddLayer", added)

	fromTar, err := s.AddTarLayer(ctx, func(w io.Writer) error { _, err := w.Write(tarball); return err })
	if err != nil {
		t.Fatal(err)
	}
	check("AddTarLayer", fromTar)

	// Removed with the index; LayerIndex's rebuild records it again.
	if err := s.RemoveLayerIndex(added.Desc.Digest); err != nil {
		t.Fatal(err)
	}
	if got := s.VerifiedDiffID(added.Desc.Digest); got != "" {
		t.Fatalf("record left after RemoveLayerIndex: %s", got)
	}
	if _, err := s.LayerIndex(added); err != nil {
		t.Fatal(err)
	}
	check("LayerIndex rebuild", added)

	// A fetched blob (Put) has no record until an index is put with one.
	fetched := packed[ocispec.MediaTypeImageLayer]
	d := digest.FromBytes(fetched)
	if _, err := s.Put(ctx, bytes.NewReader(fetched), d); err != nil {
		t.Fatal(err)
	}
	if got := s.VerifiedDiffID(d); got != "" {
		t.Fatalf("a fetched blob has a record: %s", got)
	}
	if err := s.PutLayerIndex(d, digest.FromBytes(tarball), nil); err != nil {
		t.Fatal(err)
	}
	check("PutLayerIndex", Layer{Desc: ocispec.Descriptor{Digest: d}, DiffID: digest.FromBytes(tarball)})
}

// TestDiffIDRecordCutReadsAsNone: the record is not synced, so a crash may
// leave it empty or cut; such a record is no record, never a diff id.
func TestDiffIDRecordCutReadsAsNone(t *testing.T) {
	s := newTestStore(t)
	d, diffID := digest.FromString("blob"), digest.FromString("tar")
	if err := s.RecordDiffID(d, diffID); err != nil {
		t.Fatal(err)
	}
	if got := s.VerifiedDiffID(d); got != diffID {
		t.Fatalf("record says %q, want %s", got, diffID)
	}
	whole := diffID.String() + "\n"
	for _, content := range []string{"", whole[:20], whole[:len(whole)-1], whole[:len(whole)-2] + "\n", "\x00\x00\x00\x00"} {
		if err := os.WriteFile(s.diffIDPath(d), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := s.VerifiedDiffID(d); got != "" {
			t.Errorf("record %q read as %q, want none", content, got)
		}
	}
	if err := s.RecordDiffID(d, "sha256:nothex"); err == nil {
		t.Error("a malformed diff id was recorded")
	}
}
