package worktree

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"

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
	if v, ok := w.Repo.Config.Get(SharedWorktreeKey); ok {
		if b, err := strconv.ParseBool(v); err == nil && b {
			return nil
		}
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
	if err := unix.Chmod(parent, st.Mode&0o7700); err != nil {
		return fmt.Errorf("make %s private (%s=true to keep it shared): %w", parent, SharedWorktreeKey, err)
	}
	return nil
}
