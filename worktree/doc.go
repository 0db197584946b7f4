// Package checkout turns a revision into a live directory and the changes
// made there into the next commit.
//
// Words used here:
//
//   - snapshot: a layer unpacked once, in overlay-lower form, under
//     .strata/snapshots/<id>/fs. A layer snapshot's id is the hex of the
//     layer's diff id, so every revision and work tree that holds the layer
//     shares it. Snapshots are a cache: gc removes those whose layers are
//     gone and any of them can be rebuilt from the store.
//   - chain: the ordered layers of a commit, bottom first. A chain id is the
//     OCI chain id of a prefix of it (the diff id of the first layer, then
//     sha256(parent chain id + " " + diff id)). A flattened snapshot,
//     "chain-<hex>", holds a whole prefix of a chain applied into one
//     directory; deep histories are served from it (see PlanSnapshots).
//   - lower: a read-only directory of an overlay mount: a snapshot.
//   - upper: the overlay's writable directory, where every change made in
//     the work tree lands (.strata/worktree/upper). A commit reads only it.
//   - whiteout: a deletion. In an upper or a lower it is a character device
//     0:0 (and a directory whose lower content is hidden carries
//     trusted.overlay.opaque=y); in a layer it is a ".wh.NAME" entry.
//   - work tree: the mounted overlay of one revision (<project>/rootfs, or
//     the --path of another worktree), plus the state file that says which
//     commit its upper applies to, so that a work tree that disappeared
//     (reboot, manual umount) is mounted again, upper intact, by the next
//     command.
//
// Contract: the mount plan (Plan, PlanSnapshots) is computed apart from the
// mounting, so it is testable without root. Commit reads only the upper
// directory and moves HEAD by compare-and-swap after every blob is written:
// a process killed at any instant leaves HEAD on the old commit with the
// work tree intact, or on the new one. A snapshot appears under its final
// name only when complete (built in a temporary directory, then renamed).
package checkout
