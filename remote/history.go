package remote

import (
	"errors"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/objects"
)

// IsAncestor reports whether commit anc is desc or one of its ancestors in
// the local store. A history that ends (root or missing parent) before
// anc is found answers false.
func IsAncestor(s *objects.Store, anc, desc digest.Digest) (bool, error) {
	for d := desc; d != ""; {
		if d == anc {
			return true, nil
		}
		p, err := s.Parent(d)
		if errors.Is(err, objects.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		d = p
	}
	return false, nil
}

// blobsOf lists a commit's config and layers.
func blobsOf(m *objects.Commit) []digestDesc {
	out := []digestDesc{{m.Manifest.Config, ""}}
	for i, l := range m.Manifest.Layers {
		var diff digest.Digest
		if i < len(m.Config.RootFS.DiffIDs) {
			diff = m.Config.RootFS.DiffIDs[i]
		}
		out = append(out, digestDesc{l, diff})
	}
	return out
}

// digestDesc is a blob of a commit: its descriptor, and a layer's diff id
// ("" for a config).
type digestDesc struct {
	desc   ocispec.Descriptor
	diffID digest.Digest
}
