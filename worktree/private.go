package worktree

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// SharedWorktreeKey lets other users reach a work tree: with it set to
// true, strata leaves the mode of the work tree's parent directory alone.
const SharedWorktreeKey = "core.sharedWorktree"

// closeParent makes the directory that holds the work tree (the project
// directory for rootfs) untraversable by other users, as docker keeps
// /var/lib/docker: a container's files must not be reachable by the
// host's users, even with nosuid and nodev on the mount. Only the group
// and other bits are cleared.
func (w *Worktree) closeParent() error {
	if b, _, _ := w.Repo.Config.Bool(SharedWorktreeKey); b {
		return nil
	}
	parent := filepath.Dir(w.target)
	if parent == "/" {
		slog.Warn("work tree directly under /: other users can reach it", "target", w.target)
		return nil
	}
	var st unix.Stat_t
	if err := unix.Stat(parent, &st); err != nil {
		return fmt.Errorf("%s: %w", parent, err)
	}
	if st.Mode&0o077 == 0 {
		return nil
	}
	// A directory others share (/tmp: sticky, writable by all) or
	// another user's (a home) is not strata's to close; nor, for a
	// second work tree, one of the system's (/home, /srv, /opt: every
	// user's home, or what services read, would be closed to them).
	shared := st.Mode&(unix.S_ISVTX|0o002) != 0
	if shared || w.Name != MainName && st.Uid != uint32(os.Geteuid()) {
		return fmt.Errorf("%s: %w: %s is shared with other users, who could reach the tree's files; make a directory of your own for it (or set %s=true)",
			w.target, ErrBadTarget, parent, SharedWorktreeKey)
	}
	if w.Name != MainName && filepath.Dir(parent) == "/" {
		return fmt.Errorf("%s: %w: strata makes the directory holding a work tree private (mode 0700), and %s is the system's, which other users and services reach; make one for your work trees (mkdir %s/envs, then %s/envs/%s), or set %s=true",
			w.target, ErrBadTarget, parent, parent, parent, filepath.Base(w.target), SharedWorktreeKey)
	}
	if err := unix.Chmod(parent, st.Mode&0o7700); err != nil {
		return fmt.Errorf("make %s private (%s=true to keep it shared): %w", parent, SharedWorktreeKey, err)
	}
	return nil
}
