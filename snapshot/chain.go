package snapshot

import "github.com/strata-sh/strata/objects"

// Flattening policy. A chain of at most MaxLowers layers is mounted with
// one lower per layer. A deeper chain is cut at the highest multiple of
// FlattenGroup below its length: the prefix below the cut is served by one
// flattened snapshot (keyed by the chain id of the prefix), the layers
// above it, fewer than FlattenGroup+1, by their own snapshots. Because the
// cut only moves every FlattenGroup commits, the next commits on the same
// history reuse the same flattened snapshot, and a deep chain never needs
// more than FlattenGroup+1 lowers, far below overlayfs's 500.
const (
	MaxLowers    = 128
	FlattenGroup = 64
)

// SnapshotRef names the snapshot that serves one overlay lower.
type SnapshotRef struct {
	ID     string          // directory name under .strata/snapshots
	Layers []objects.Layer // the layers it holds, bottom first
	Flat   bool            // a flattened prefix of a chain
}

// emptyID is the snapshot of a commit without layers: overlay needs one lower.
const emptyID = "empty"

// PlanSnapshots returns the snapshots that make up layers, bottom first,
// each once.
func PlanSnapshots(layers []objects.Layer) []SnapshotRef {
	if len(layers) == 0 {
		return []SnapshotRef{{ID: emptyID}}
	}
	var out []SnapshotRef
	start := 0
	if len(layers) > MaxLowers {
		cut := (len(layers) - 1) / FlattenGroup * FlattenGroup
		chain := objects.ChainIDs(layers[:cut])
		out = append(out, SnapshotRef{ID: "chain-" + chain[cut-1].Encoded(), Layers: layers[:cut], Flat: true})
		start = cut
	}
	// A layer listed again higher up (images repeat layers: an empty
	// one, a tar a docker-archive names twice) adds nothing below its
	// topmost occurrence, whose paths, whiteouts and opaque marks shadow
	// every one of its own; and overlayfs refuses a lower twice (ELOOP).
	// So each snapshot is kept at its topmost occurrence only.
	top := map[string]int{}
	for i, l := range layers[start:] {
		top[l.DiffID.Encoded()] = i
	}
	for i, l := range layers[start:] {
		if id := l.DiffID.Encoded(); top[id] == i {
			out = append(out, SnapshotRef{ID: id, Layers: []objects.Layer{l}})
		}
	}
	return out
}
