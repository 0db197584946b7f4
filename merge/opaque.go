package merge

import (
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
)

// OpaqueSince returns the directories that side's own layers (those above
// the layers it shares with base) mark opaque. A tree forgets the marks;
// the indexes keep them.
func OpaqueSince(store *objects.Store, base, side *objects.Commit) (map[string]bool, error) {
	bl, sl := base.Layers(), side.Layers()
	n := 0
	for n < len(bl) && n < len(sl) && bl[n].Desc.Digest == sl[n].Desc.Digest {
		n++
	}
	out := map[string]bool{}
	for _, l := range sl[n:] {
		entries, err := store.LayerIndex(l)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if e.Type == layer.TypeOpaque {
				out[e.Path] = true
			}
		}
	}
	return out, nil
}
