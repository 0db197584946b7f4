package remote

import (
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/objects"
)

// blobsOf lists a commit's config and layers.
func blobsOf(m *objects.Commit) []digestDesc {
	out := []digestDesc{{m.Manifest.Config, ""}}
	for _, l := range m.Layers() {
		out = append(out, digestDesc{l.Desc, l.DiffID})
	}
	return out
}

// digestDesc is a blob of a commit: its descriptor, and a layer's diff id
// ("" for a config).
type digestDesc struct {
	desc   ocispec.Descriptor
	diffID digest.Digest
}
