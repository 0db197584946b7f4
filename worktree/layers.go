package checkout

import (
	"context"
	"io"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
)

// The few store operations on layers that checkout needs, in one place.

// openLayer returns the uncompressed tar of a layer; it fails at EOF if
// the blob does not match its digest.
func openLayer(s *objects.Store, desc ocispec.Descriptor) (io.ReadCloser, error) {
	return s.OpenLayer(desc)
}

// layerIndex returns the file index of a layer.
func layerIndex(s *objects.Store, desc ocispec.Descriptor) ([]layer.Entry, error) {
	return s.LayerIndexOf(desc)
}

// addLayerFromDir writes dir as a new zstd layer, with its file index.
func addLayerFromDir(ctx context.Context, s *objects.Store, dir string, opts layer.WriteOptions) (objects.Layer, error) {
	info, err := s.AddLayerFromDir(ctx, dir, opts)
	if err != nil {
		return objects.Layer{}, err
	}
	return info, nil
}

func short(hex string) string {
	if len(hex) > 12 {
		return hex[:12]
	}
	return hex
}
