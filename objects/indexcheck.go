package objects

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/objects/layer"
)

// ErrIndexMismatch says a layer's file index does not list what the
// layer holds: the cache is damaged (RebuildLayerIndex makes it again).
var ErrIndexMismatch = errors.New("file index does not match the layer")

// CheckLayerIndex verifies the file index of stored layer desc (fsck).
// An index whose record holds its sha256, and that still hashes to it, is
// the one that was written from the layer: it is only hashed. Any other
// (an older strata's, without the sum; or damaged) is derived again from
// the layer, in one streaming pass, and compared entry by entry: one
// that matches gets its sum recorded, with the diff id the pass found, so
// that the next fsck only hashes it; one that does not is
// ErrIndexMismatch, naming the first difference. A layer without an
// index has none to check.
func (s *Store) CheckLayerIndex(desc ocispec.Descriptor) error {
	d := desc.Digest
	if err := d.Validate(); err != nil {
		return fmt.Errorf("layer index %q: %w", d, err)
	}
	b, err := readRegular(s.indexPath(d), -1)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("layer index %s: %w", d, err)
	}
	sum := digest.FromBytes(b)
	if _, rec := s.readRecord(d); rec == sum {
		return nil
	}
	rc, err := s.OpenLayer(desc)
	if err != nil {
		return fmt.Errorf("layer index %s: %w", d, err)
	}
	defer rc.Close()
	diffID, want, err := layer.Index(rc)
	if err != nil {
		return fmt.Errorf("layer index %s: %w", d, err)
	}
	got, err := layer.DecodeIndex(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("layer index %s: %w: %w", d, ErrIndexMismatch, err)
	}
	if what := indexDifference(want, got); what != "" {
		return fmt.Errorf("layer index %s: %w: %s", d, ErrIndexMismatch, what)
	}
	return s.writeDiffID(d, diffID, sum)
}

// indexDifference says where got, a stored index, first differs from
// want, the layer's; "" if nowhere.
func indexDifference(want, got []layer.Entry) string {
	for i := range min(len(want), len(got)) {
		w, g := want[i], got[i]
		if w.Path != g.Path {
			return fmt.Sprintf("entry %d is %s, the layer has %s", i+1, pathquote.Quote(g.Path), pathquote.Quote(w.Path))
		}
		if !w.ModTime.Equal(g.ModTime) {
			return fmt.Sprintf("%s: mtime differs", pathquote.Quote(w.Path))
		}
		w.ModTime, g.ModTime = time.Time{}, time.Time{}
		if w != g {
			return fmt.Sprintf("%s: differs from the layer's entry", pathquote.Quote(w.Path))
		}
	}
	if len(want) != len(got) {
		return fmt.Sprintf("it lists %d entries, the layer has %d", len(got), len(want))
	}
	return ""
}

// RebuildLayerIndex makes layer l's file index again from the layer (fsck
// --repair), verified as LayerIndex verifies a missing one.
func (s *Store) RebuildLayerIndex(l Layer) error {
	if err := s.RemoveLayerIndex(l.Desc.Digest); err != nil {
		return fmt.Errorf("layer index %s: %w", l.Desc.Digest, err)
	}
	_, err := s.LayerIndex(l)
	return err
}
