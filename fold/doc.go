// Package fold keeps every commit within the depth docker and podman
// run. A commit lists all the layers below it, one a commit, so a long
// history would make images of thousands of layers: manifests and
// configs that grow with the depth (every walk of the history reads the
// square of it), and images podman and docker refuse past 128 layers
// ("max depth exceeded").
//
// When a commit would have more than MaxLayers layers, Prepare folds a
// run of Fanout of its parent's layers into one: the layer that turns
// the tree below the run into the tree above it (package changeset), with
// one history entry, "strata fold N", in place of the run's. Both trees
// are read only where the run can change them (region). N, the
// fold's weight, is how many unfolded layers it stands for; a layer
// strata did not fold weighs 1.
//
// Which run: the layers are laid end to end, each as long as its weight,
// and only an aligned run folds: Fanout layers of weight Fanout^k that
// start at a multiple of Fanout^(k+1). This is a counter in base Fanout:
// every change is copied into at most one fold per level (about
// log16(depth) times: 4 at 50,000 commits), and when no aligned run is
// left the chain holds fewer than Fanout layers per level, so it fits in
// MaxLayers to a depth of 16^8. The lowest level goes first (the smallest
// fold), the topmost run of it first (an imported base keeps its blobs
// longest). A chain whose weights say otherwise (a history edited by
// hand) still folds: the run of Fanout layers of least weight.
//
// A fold changes no file: the commit checks out byte for byte as it
// would unfolded. Its parent keeps its own layers; only the new commit,
// and those made on it, list the fold.
package fold
