package main

import (
	"context"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/worktree"
)

// openRunRoot opens the root of run s's file system (O_PATH): where a
// running container's pid 1 has it (in the container's mount namespace,
// its volumes on it); with no container (between restarts, starting,
// ending), the run's tree where its supervisor has it mounted; else the
// run's tree, mounted here for the copy. All under the run's tree lock,
// which a supervisor takes to mount the tree and a start of the run
// waits for (notice: lockTree's); held to the end of the copy but for
// a running container's root.
func openRunRoot(ctx context.Context, r *repo.Repo, s *svc, notice func(int)) (int, func(), error) {
	unlockTree, err := s.lockTree(ctx, notice)
	if err != nil {
		return -1, nil, fmt.Errorf("%s: %w", s.st.Name, err)
	}
	// As it is now that no supervisor is mounting its tree.
	if err := s.reload(); err != nil {
		unlockTree()
		return -1, nil, fmt.Errorf("%s: %w", s.st.Name, err)
	}
	if pid, ok := s.containerPid(); ok {
		unlockTree()
		fd, err := unix.Open(fmt.Sprintf("/proc/%d/root", pid), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		// Still the run's pid 1 once opened: not a pid reused meanwhile.
		if now, ok := s.containerPid(); err == nil && (!ok || now != pid) {
			unix.Close(fd)
			err = unix.ESRCH
		}
		if err != nil {
			return -1, nil, fmt.Errorf("%s: open its root: %w", s.st.Name, err)
		}
		return fd, func() { unix.Close(fd) }, nil
	}
	w, err := runWorktree(r, s)
	if err != nil {
		unlockTree()
		return -1, nil, err
	}
	fd, err := openSupervisorTree(s, w)
	if err != nil {
		unlockTree()
		return -1, nil, err
	}
	if fd >= 0 {
		return fd, func() { unix.Close(fd); unlockTree() }, nil
	}
	fd, umount, err := mountRunTree(ctx, s, w)
	if err != nil {
		unlockTree()
		return -1, nil, err
	}
	return fd, func() { unix.Close(fd); umount(); unlockTree() }, nil
}

// openSupervisorTree opens the tree of run s where its live supervisor
// has it mounted, in its own mount namespace (reached through its
// /proc/PID/root), as docker's cp reaches a restarting container's
// files: mounting the tree here too would put its upper under two
// overlays. It returns -1 and no error when the tree is the caller's to
// mount, as an ended run's: no supervisor lives, or the one that does
// has not mounted the tree yet (it mounts it under the tree lock, which
// the caller holds, so not before the copy ends) or has unmounted it as
// it ends. It fails when it cannot tell.
func openSupervisorTree(s *svc, w *worktree.Worktree) (int, error) {
	sup := s.lockHolder()
	if sup == 0 {
		return -1, nil
	}
	fd, err := unix.Open(fmt.Sprintf("/proc/%d/root%s", sup, w.Target()), unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	mounted := false
	if err == nil {
		// A file system of its own, not the directory it is mounted on.
		if mounted, err = mountRoot(fd); err != nil {
			unix.Close(fd)
		}
	}
	// Still the run's supervisor once opened, not a pid reused. One that
	// took the run's lock since has not mounted the tree: it waits for
	// the tree lock, and its namespace is not the one opened.
	if now := s.lockHolder(); now != sup {
		if err == nil {
			unix.Close(fd)
		}
		return -1, nil
	}
	if err != nil {
		return -1, fmt.Errorf("%s: open its tree in its supervisor (pid %d): %w", s.st.Name, sup, err)
	}
	if !mounted {
		unix.Close(fd)
		return -1, nil
	}
	return fd, nil
}

// mountRoot reports whether the directory fd is on another file system
// than its parent: a mount's root.
func mountRoot(fd int) (bool, error) {
	var st, parent unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return false, err
	}
	if err := unix.Fstatat(fd, "..", &parent, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return false, err
	}
	return st.Dev != parent.Dev, nil
}

// runWorktree is the work tree run s runs in: its own (--rev), or the
// checkout.
func runWorktree(r *repo.Repo, s *svc) (*worktree.Worktree, error) {
	if s.st.Tree == "" {
		return worktree.Main(r), nil
	}
	w, err := worktree.ForPath(r, s.st.Tree)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.st.Name, err)
	}
	return w, nil
}

// mountRunTree opens w, the tree of the run s, which no supervisor has
// mounted, mounting it if it is not (a run's tree is mounted only by its
// supervisor: umount unmounts it again).
func mountRunTree(ctx context.Context, s *svc, w *worktree.Worktree) (int, func(), error) {
	umount := func() {}
	if !w.Mounted() {
		if _, err := w.Ensure(ctx); err != nil {
			return -1, nil, fmt.Errorf("%s: %w", s.st.Name, err)
		}
		if s.st.Tree != "" {
			umount = func() { w.Umount() }
		}
	}
	fd, err := unix.Open(w.Target(), unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		umount()
		return -1, nil, fmt.Errorf("%s: open its tree: %w", s.st.Name, err)
	}
	return fd, umount, nil
}
