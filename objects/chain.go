package objects

import "github.com/opencontainers/go-digest"

// ChainIDs returns the OCI chain id of every prefix of layers: the diff id
// of the first layer, then sha256(parent chain id + " " + diff id). It
// names a stack of layers by content, whatever their compression.
func ChainIDs(layers []Layer) []digest.Digest {
	out := make([]digest.Digest, len(layers))
	for i, l := range layers {
		if i == 0 {
			out[i] = l.DiffID
			continue
		}
		out[i] = digest.FromString(out[i-1].String() + " " + l.DiffID.String())
	}
	return out
}
