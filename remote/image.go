package remote

import (
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/image"
)

// The image format is image's: what a manifest may be, how a docker one
// becomes a commit's, and how much of an image strata reads whole. The
// transfers use them under these names.
var (
	exactSize          = image.ExactSize
	exactSizeCloser    = image.ExactSizeCloser
	checkDescSize      = image.CheckDescSize
	capText            = image.CapText
	openRegular        = image.OpenRegular
	readRegularCapped  = image.ReadRegularCapped
	checkLayoutVersion = image.CheckLayoutVersion
	isIndex            = image.IsIndex
	sniffMediaType     = image.SniffMediaType
	ctxReader          = image.ContextReader
)

const (
	maxManifestSize = image.MaxManifestSize
	// maxResponseSize caps any other registry answer read whole: tag
	// lists, error bodies, tokens.
	maxResponseSize = 16 << 20
)

// toIncoming checks a fetched manifest against its digest and turns it
// into a commit to receive (image.Normalize).
func toIncoming(raw []byte, desc ocispec.Descriptor) (*incoming, error) {
	n, err := image.Normalize(raw, desc)
	if err != nil {
		return nil, err
	}
	return &incoming{id: n.ID, raw: n.Raw, m: n.Manifest}, nil
}
