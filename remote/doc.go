// Package remote moves commits between a repository and the places teams
// share images: OCI registries (distribution v2 API) and OCI image layout
// directories on a shared path. Import and export of image files, and what
// a manifest may be, are package image's; remote only moves bytes.
//
// Words used here:
//
//   - remote: a named location in .strata/config ([remote "origin"] url = ...),
//     or a location given directly on the command line.
//   - endpoint: where a remote's URL leads: a registry repository
//     (registry.example.com/team/env) or a layout directory (/mnt/team/envs).
//   - remote tag: a registry tag. A branch is pushed to the tag of the same
//     name; so is a tag. Fetch records each remote tag where the remote's
//     refspecs (remote.NAME.fetch, refs.Refspec) map it, by default
//     refs/remotes/<remote>/<tag>.
//
// History in a registry. A commit is an image manifest whose annotation
// dev.strata.parent names its parent manifest. Push sends every commit of
// the pushed history that the registry lacks as a manifest pushed by digest
// (registries keep untagged manifests that are pushed by digest), oldest
// first, and moves the tag last. So in the registry, a manifest that is
// present has all its blobs, and all its ancestors unless the registry
// garbage-collected them. Push then writes the tip's ancestor list, an
// image index of the tip and its ancestors under a tag of its own
// (ancestors.go, listform.go), so that fetch can ask for all of a history's
// manifests at once; fetch checks the list against dev.strata.parent as
// the manifests arrive, and without a list follows dev.strata.parent one
// request at a time. It stops at the first ancestor it already has, or,
// where the registry lost an ancestor, marks the commit shallow (see
// repo.AddShallow).
//
// A fetch, one file a step: fetchspec.go chooses the tags and the refs
// they go to (refspecs; which refs may move, judged before anything is
// received), fetchplan.go reads the manifests of their histories that
// the store lacks, fetchblobs.go receives and checks their blobs, and
// fetch.go runs the steps, stores the commits and moves the refs.
//
// Contract:
//   - every blob received is verified against its digest before it enters
//     the store; a layer's diff id is not checked on arrival (that would
//     decompress every layer twice) but where the layer is first read
//     whole: the unpack that builds its snapshot, or Store.LayerIndex when
//     a diff needs its file index first. No file index exists for a layer
//     until then (see package objects, "ingest");
//   - blobs go first, a manifest after its blobs, a ref last: an interrupted
//     push or fetch leaves no ref, local or remote, naming an incomplete
//     commit, and its rerun sends only what is missing;
//   - blobs the other side has are never sent (HEAD checks, and cross-
//     repository mounts within one registry);
//   - a blob read stops at its descriptor's size; manifests, indexes and
//     configs are capped (image/limits.go);
//   - plain HTTP only to loopback and to a registry marked insecure, and
//     credentials only to the registry, never after a redirect to another
//     host (httppolicy.go);
//   - fetch checks every remote name before it writes any ref.
//
// A docker (schema 2) manifest that is fetched is rewritten with OCI media
// types (image.Normalize), deterministically, so that every clone gets the same commit id; an
// OCI manifest is kept byte for byte, so its digest is the commit id.
package remote
