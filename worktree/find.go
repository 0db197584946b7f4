package worktree

import (
	"strings"

	"github.com/moby/sys/mountinfo"
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
