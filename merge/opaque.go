package merge

import (
	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/tree"
)

// OpaqueSince returns the directories of baseTree that side's own layers
// (those base does not have) mark opaque. A tree forgets the marks; the
// indexes keep them. A mark on a directory the base lacks hides nothing
// (overlayfs marks many new directories so) and is left out.
// index reads a layer's file index (objects.Store.LayerIndex, or a cache).
func OpaqueSince(index func(objects.Layer) ([]layer.Entry, error), base, side *objects.Commit, baseTree tree.Tree) (map[string]bool, error) {
	inBase := map[digest.Digest]bool{}
	for _, l := range base.Layers() {
		inBase[l.Desc.Digest] = true
	}
	out := map[string]bool{}
	for _, l := range side.Layers() {
		if inBase[l.Desc.Digest] {
			continue
		}
		entries, err := index(l)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if b := baseTree[e.Path]; e.Type == layer.TypeOpaque && b != nil && b.Type == layer.TypeDir {
				out[e.Path] = true
			}
		}
	}
	return out, nil
}
