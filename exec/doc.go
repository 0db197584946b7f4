// Package exec is strata's container runtime: it runs one command in a
// prepared root directory, confined the way Docker confines a container.
//
// Words:
//
//   - root: a directory holding the container's file system (for strata, the
//     overlay mount of a checkout). exec never writes into it except to
//     create missing mount points (/proc, /dev, /sys, targets of Mounts).
//   - direct start: where it can (root, cgroup v1, Linux 6.15), Run builds
//     the container on a locked thread of the calling process: namespaces,
//     mounts, pivot_root, confinement; it forks the command from there,
//     stopped at its execve until /proc is mounted for its PID namespace
//     (direct.go, directrelease.go). No second program starts.
//   - direct join: Join (docker exec) enters a running container the same
//     way, from a locked thread, through a pidfd of its pid 1
//     (joindirect.go); elsewhere nsenter and the init do it (join.go,
//     joinstart.go).
//   - init: elsewhere, the process Run starts in the new namespaces. It is
//     strata's own binary (or the small strata-init), re-executed from a
//     read-only mount or a sealed in-memory copy; Reexec, called first in
//     main, turns it into the init. It builds the same mounts, pivots into
//     the root, confines itself and execs the command, which becomes pid 1
//     (Spec.Init keeps a tiny pid 1 that reaps zombies instead).
//   - confinement: new mount, PID, UTS, IPC and cgroup namespaces (and a
//     network namespace unless Network is "host"); Docker's default
//     capabilities; no_new_privs; Docker's default seccomp profile; runc's
//     masked and read-only paths; runc's device rules (v1 devices
//     controller, v2 BPF_CGROUP_DEVICE program) in a cgroup every root
//     container gets, with a freezer (Freeze).
//   - watchdog: a helper process that removes the container's cgroup if
//     strata itself dies.
//
// Contract: Run returns the command's exit status (128+N when killed by
// signal N). If the command could not be started it returns an *ExitError
// with code 125 (runtime failure), 126 (not executable) or 127 (not found).
// exec imports no other strata package.
package exec
