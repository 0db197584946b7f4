package remote

import (
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
