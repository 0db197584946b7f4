// Package refs keeps strata's names for commits: branches, tags, remote
// tracking refs and HEAD, each a small file holding a manifest digest, as
// in git.
//
// Words used here:
//
//   - ref: a full name such as refs/heads/main or refs/tags/v1 and the
//     commit digest its file holds.
//   - HEAD: either symbolic ("ref: refs/heads/main") or detached (a digest).
//   - reflog: logs/<ref>, one line per move of a ref (old, new, who, when,
//     why), so that nothing once committed becomes unreachable for gc.
//
// Contract: a ref moves only by compare-and-swap under git's lock-file
// protocol (create name.lock with O_EXCL, write, fsync, rename over name),
// so two processes changing the same repository never corrupt it: one
// waits for the other or fails with ErrLocked. After every move the OCI
// layout's index.json is rewritten from the refs, so other OCI tools see
// branches and tags by name.
package refs
