package remote

import (
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/image"
)

// maxResponseSize caps any registry answer read whole other than a
// manifest (image.MaxManifestSize): tag lists, error bodies, tokens.
const maxResponseSize = 16 << 20

// toIncoming checks a fetched manifest against its digest and turns it
// into a commit to receive (image.Normalize).
func toIncoming(raw []byte, desc ocispec.Descriptor) (*incoming, error) {
	n, err := image.Normalize(raw, desc)
	if err != nil {
		return nil, err
	}
	return &incoming{id: n.ID, raw: n.Raw, m: n.Manifest}, nil
}

// maxPlannedBytes bounds the manifests one session holds while it plans a
// fetch (each is held until its blobs have arrived): some 150,000 of
// strata's commits. A registry could otherwise make a fetch hold
// gigabytes with padded manifests, and cheaply when it gzips them. A
// variable for tests.
var maxPlannedBytes int64 = 256 << 20

// toPlanned is toIncoming for a manifest the session holds until its
// fetch ends, counted against maxPlannedBytes.
func (s *Session) toPlanned(raw []byte, desc ocispec.Descriptor) (*incoming, error) {
	if s.planned.Add(int64(len(raw))) > maxPlannedBytes {
		return nil, fmt.Errorf("the history's manifests come to more than %s: %w", image.CapText(maxPlannedBytes), ErrBadImage)
	}
	return toIncoming(raw, desc)
}
