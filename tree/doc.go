// Package tree reads revisions as file maps, from the layers' file indexes
// alone: never by unpacking and never by mounting. It stands on objects
// only; it never imports snapshot or worktree, so that log -- PATH, blame
// and diff link no mount code.
//
// Words used here:
//
//   - tree: the file map of a revision (Tree): every visible path with the
//     index entry of the layer that last wrote it. Trees caches the map of
//     long chains' prefixes under .strata/snapshots/tree-v2-<chain id>.index.
//   - change: one path that differs between two trees (Change, Kind, with
//     git's letters A, M, D, T).
//   - history: walks of a commit's ancestry over file indexes (History):
//     whether a commit touched a path (log -- PATH), who last changed it
//     (blame), and the content of files read from the layers' streams.
//   - patch: a git-style unified diff of one change (WritePatch).
//
// Contract: the results depend only on the commits' blobs; the caches are
// rebuilt when missing and dropped by Trees.Prune.
package tree
