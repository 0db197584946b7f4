package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// live reports whether the run's supervisor holds its lock. A lock of
// more than one name is the run's only if held under this one
// (flockHolder): else a hard link planted as the lock, to a file another
// process holds, made that process the supervisor.
func (s *svc) live() bool {
	f, err := s.openRunLock(os.O_RDONLY)
	if err != nil {
		return false
	}
	defer f.Close()
	err = unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB)
	if !errors.Is(err, unix.EWOULDBLOCK) {
		return false
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return false
	}
	return st.Nlink <= 1 || s.lockHolder() > 0
}

// treeLockName is the file of lockTree.
const treeLockName = "tree.lock"

// lockTree takes the run's tree lock, which keeps two mounts of its
// tree apart: overlayfs mounts of one upper corrupt each other, and a
// tree unmounted here is detached from a supervisor that uses it too.
// The supervisor holds it while it mounts the tree in its own mount
// namespace; after that it is live, and the tree is left to it. cp and
// commit --from hold it from before they ask whether the run is live
// until they have unmounted the tree they mounted here. A wait that ctx
// cannot end blocks in the kernel; else ctx ends it, and notice, if
// set, is told after a second who holds the lock (its pid, or 0).
func (s *svc) lockTree(ctx context.Context, notice func(holder int)) (func(), error) {
	f, err := os.OpenFile(s.path(treeLockName), os.O_CREATE|os.O_RDWR|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock its tree: %w", err)
	}
	how := unix.LOCK_EX | unix.LOCK_NB
	if ctx.Done() == nil {
		how = unix.LOCK_EX
	}
	for start := time.Now(); ; {
		err := unix.Flock(int(f.Fd()), how)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock its tree: %w", err)
		}
		if notice != nil && time.Since(start) >= time.Second {
			notice(flockHolder(s.path(treeLockName), 0, 0))
			notice = nil
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("wait for its tree: %w", context.Cause(ctx))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// treeWaitNotice is lockTree's notice for a command: that it waits, and
// for whom.
func treeWaitNotice(g *globals, cmd, name string) func(int) {
	return func(holder int) {
		who := "another process"
		if holder > 0 {
			who = fmt.Sprintf("pid %d", holder)
		}
		fmt.Fprintf(g.stderr, "strata: %s: waiting for run %s's tree, which %s holds (Ctrl-C stops waiting)\n", cmd, name, who)
	}
}

// lockHolder returns the pid of the process that holds the run's lock
// (its live supervisor), or 0. Unlike the recorded supervisor_pid, which
// a new supervisor rewrites only after it took the lock and which names
// a dead one (its pid perhaps reused) meanwhile, it is never stale: the
// recorded pid is only where the kernel is asked first (flockHolder).
func (s *svc) lockHolder() int {
	return flockHolder(s.path("lock"), s.st.SupPid, s.st.SupLockFd)
}
