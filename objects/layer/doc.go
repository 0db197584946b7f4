// Package layer is strata's layer codec: it turns a directory into a
// deterministic tar stream, reads tar streams back into directories safely,
// and describes every layer by a file index. It knows nothing of the store.
//
// Words used here:
//
//   - layer: a tar stream of one change set. strata writes PAX tars,
//     zstd-compressed; gzip and plain tars are read too (see Decompress).
//   - diff id: the sha256 digest of the uncompressed tar. It names the
//     layer's content whatever its compression.
//   - whiteout: a tar entry named ".wh.NAME" saying that NAME, present in a
//     lower layer, is deleted. In an overlay upper directory a whiteout is a
//     character device 0:0.
//   - opaque dir: a directory whose lower-layer content is hidden; in a tar
//     it holds the entry ".wh..wh..opq", in an overlay upper it carries the
//     xattr trusted.overlay.opaque=y.
//   - file index: one Entry per tar entry (path, type, mode, owner, size,
//     content digest, link target, ...), so that layers can be listed and
//     compared without unpacking them. Its text form is documented in
//     docs/format-index.md.
//
// Contract: WriteTar and Create give the same bytes for the same tree
// (names sorted bytewise, numeric owners only, no atime or ctime, fixed PAX
// format). Unpack never creates, follows or writes anything outside its
// target directory; an entry that would is refused with an error naming it.
package layer
