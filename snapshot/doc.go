// Package snapshot keeps layers unpacked on disk and plans the overlay
// mounts made of them, in the manner of containerd's snapshotters. It
// stands on objects alone: it knows layers, not commits, trees or work
// trees.
//
// Words used here:
//
//   - snapshot: a layer unpacked once, in overlay-lower form, under
//     .strata/snapshots/<id>/fs. A layer snapshot's id is the hex of the
//     layer's diff id, so every revision and work tree that holds the layer
//     shares it. Snapshots are a cache: gc removes those whose layers are
//     gone (through the work trees' PruneCaches) and any of them can be
//     rebuilt from the store.
//   - chain: the ordered layers of a commit, bottom first. A chain id is the
//     OCI chain id of a prefix of it (objects.ChainIDs). A flattened
//     snapshot, "chain-<hex>", holds a whole prefix of a chain applied into
//     one directory; deep histories are served from it (see PlanSnapshots).
//   - lower: a read-only directory of an overlay mount: a snapshot.
//   - plan: the mount to make (Plan, Mount), computed apart from mounting.
//
// Contract: the plans (PlanSnapshots, Plan) are pure functions, testable
// without root. A snapshot appears under its final name only when complete
// (built in a temporary directory, then renamed), and unpacking checks the
// layer's diff id: a layer that lies never becomes a snapshot.
package snapshot
