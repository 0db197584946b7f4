// Package objects is strata's content store and the formats kept in it.
//
// Words used here:
//
//   - blob: immutable content named by its sha256 digest, kept under
//     blobs/sha256/<hex> of an OCI image layout. Layers, image configs and
//     manifests are all blobs.
//   - layer: a tar stream of one change set, zstd-compressed when strata
//     writes it (gzip and plain layers are accepted from elsewhere). Its
//     diff id is the digest of the uncompressed tar.
//   - commit: an OCI image manifest whose annotation dev.strata.parent names
//     the parent commit. The manifest digest is the commit id; message,
//     author and date are the last entry of the config's history.
//   - file index: a per-layer listing of every entry (path, type, mode,
//     owner, size, content digest, link target), written when a layer enters
//     the store so that diffs never have to unpack layers.
//
// Contract: Put is idempotent and hashes while it writes; nothing is ever
// written under its final name (temp file in tmp/, fsync, rename); every
// blob read back is checked against its digest before the reader reports
// EOF.
//
// Ingest: objects owns layer truth. Commit.Layers pairs descriptors with
// diff ids; AddLayerFromDir and AddLayer check (or compute) both the blob
// digest and the diff id before anything is renamed into blobs/, and write
// the file index with the blob. Put stores a fetched layer with its blob
// digest checked only; its file index is written later, by LayerIndex or
// an unpack (PutLayerIndex), and only once its diff id matched. So a file
// index exists if and only if its layer's diff id was verified. Beside
// it, a diff id record (VerifiedDiffID) names the diff id that was
// verified, so that an unpack can check the blob digest in its place.
package objects
