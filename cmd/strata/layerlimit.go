//go:build !strata_front

package main

import (
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/fold"
	"github.com/strata-sh/strata/objects"
)

// maxRuntimeLayers is the deepest image podman and docker run: their
// overlay drivers refuse a container on more than 128 layers ("max depth
// exceeded"; measured with podman 4.3: 128 layers run, 129 do not).
// strata folds its own commits to within it (package fold); an imported
// or fetched image may be deeper.
const maxRuntimeLayers = fold.MaxLayers

// warnLayerLimit says so when commit id, about to leave strata with
// layers layers, has more than podman and docker run.
func warnLayerLimit(w io.Writer, id digest.Digest, layers int) {
	if layers <= maxRuntimeLayers {
		return
	}
	fmt.Fprintf(w, "warning: %s has %d layers; podman and docker run images of at most %d (\"max depth exceeded\").\n"+
		"hint: to squash the history above an older REV into one layer, on a new branch: strata checkout -b NAME; strata reset --soft REV; strata commit\n",
		shortID(id), layers, maxRuntimeLayers)
}

// pushedLayers is how many layers pushed commit id has (0 if unknown).
func pushedLayers(s *objects.Store, id digest.Digest) int {
	m, err := s.ReadManifest(id)
	if err != nil {
		return 0
	}
	return len(m.Layers)
}
