// Package worktree turns a revision into a live directory and the changes
// made there into the next commit.
//
// It stands on tree (what a revision holds) and snapshot (the unpacked
// layers and the mount plans).
//
// Words used here:
//
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
// Contract: Commit reads only the upper directory and moves HEAD by
// compare-and-swap after every blob is written: a process killed at any
// instant leaves HEAD on the old commit with the work tree intact, or on
// the new one. One flock per work tree (<dir>/lock) serialises the commands that change it; the runs
// registry (runs/) says which containers run in it. gc learns the work
// trees' commits and prunes their caches only when its caller passes
// GCOptions (nothing registers itself).
package worktree
