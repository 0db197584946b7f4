package objects

import (
	"context"
	"fmt"
	"io"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/objects/layer"
)

// AddTarLayer stores the tar that write produces as a zstd layer, with its
// file index, in one streaming pass (merge and rebase build layers from
// other layers' entries, not from a directory).
func (s *Store) AddTarLayer(ctx context.Context, write func(w io.Writer) error) (Layer, error) {
	w, err := s.NewWriter()
	if err != nil {
		return Layer{}, err
	}
	defer w.Abort()
	zw := layer.NewZstdWriter(w)
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(write(pw)) }()
	diffID, entries, err := layer.Index(io.TeeReader(ContextReader(ctx, pr), zw))
	pr.CloseWithError(io.ErrClosedPipe)
	cerr := zw.Close()
	switch {
	case err != nil:
		return Layer{}, fmt.Errorf("write layer: %w", err)
	case cerr != nil:
		return Layer{}, fmt.Errorf("write layer: %w", cerr)
	}
	desc, err := w.Commit("")
	if err != nil {
		return Layer{}, err
	}
	desc.MediaType = ocispec.MediaTypeImageLayerZstd
	if err := s.writeIndex(desc.Digest, diffID, entries); err != nil {
		return Layer{}, err
	}
	return Layer{Desc: desc, DiffID: diffID}, nil
}
