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
//   - refspec: git's [+]SRC[:DST], a map from a remote's tags to local
//     refs (remote.NAME.fetch); it says which remote-tracking ref stands
//     for a branch's upstream (BRANCH@{upstream}), so the front build,
//     which has no registry client, reads it here.
//
// Contract: a ref moves only by compare-and-swap under git's lock-file
// protocol (create name.lock with O_EXCL, write, fsync, rename over name),
// and every move holds the repository-wide refs.lock (O_EXCL file plus
// flock, taken over only from a dead holder) from reading the old value,
// through the reflog append and the rename, to rewriting the OCI layout's
// index.json (OnUpdate). So two processes never corrupt a repository, the
// reflog is in the order of the moves, and index.json equals the refs.
// An error wrapping ErrMoved is the only error after which a ref moved.
package refs
