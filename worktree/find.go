package worktree

import (
	"strings"

	"github.com/moby/sys/mountinfo"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/snapshot"
)

// FindByMount finds the extra work tree mounted at dir or above it, from
// the mount table: its overlay's upper lies in
// <project>/.strata/worktrees/<name>/. It returns the project directory
// and the work tree's name.
func FindByMount(dir string) (project, name string, ok bool) {
	mounts, err := mountinfo.GetMounts(mountinfo.FSTypeFilter("overlay"))
	if err != nil {
		return "", "", false
	}
	best := ""
	for _, m := range mounts {
		mp := m.Mountpoint
		if dir != mp && !strings.HasPrefix(dir, strings.TrimSuffix(mp, "/")+"/") || len(mp) < len(best) {
			continue
		}
		p, rest, found := strings.Cut(snapshot.SuperOption(m.VFSOptions, "upperdir"), "/.strata/worktrees/")
		n, _, _ := strings.Cut(rest, "/")
		if found && n != "" {
			best, project, name, ok = mp, p, n, true
		}
	}
	return project, name, ok
}

// Link makes w the work tree a command runs in: for an extra work tree,
// HEAD, @, HEAD~N, HEAD@{N} and @{-N} in revisions, and HEAD's reflog,
// are then its own, as in a git linked worktree.
func (w *Worktree) Link() {
	if w.Name == MainName {
		w.Repo.Refs.Linked = nil
		return
	}
	if st, _, _ := w.State(); st.Head == "" {
		return // not checked out yet: HEAD stays where the command runs
	}
	w.Repo.Refs.Linked = &refs.Linked{Head: w.Head, Log: w.HeadLog(), OrigHead: w.origHeadFile()}
}
