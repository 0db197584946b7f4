package repo

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/sys/mountinfo"
	"github.com/strata-sh/strata/internal/kmount"
	"github.com/strata-sh/strata/internal/mountopt"
	"golang.org/x/sys/unix"
)

// planted reports whether dir, which holds a .strata, lies where no
// repository of the user's can: below another repository's .strata, or
// in a work tree strata mounted (an overlay whose upper directory is in
// a repository here), which a container or an image writes.
func planted(dir string) bool {
	for _, c := range strings.Split(filepath.ToSlash(filepath.Dir(dir)), "/") {
		if c == DirName {
			return true
		}
	}
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil || st.Type != unix.OVERLAYFS_SUPER_MAGIC {
		return false
	}
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real // the path the kernel shows
	}
	upper, err := overlayUpper(dir)
	if err != nil {
		return true // an overlay we cannot tell: refuse rather than trust
	}
	// The repository the upper lies in must be one this process sees:
	// strata run inside a strata container sees that container's root as
	// such an overlay, but not the host's repository it names, and may
	// keep repositories of its own there.
	project, _, found := strings.Cut(upper, "/"+DirName+"/")
	if !found {
		return false
	}
	fi, err := os.Stat(filepath.Join(project, DirName))
	return err == nil && fi.IsDir()
}

// overlayUpper returns the upper directory of the innermost overlay dir
// lies in, "" if none. The kernel is asked about the mount dir resolves
// into and those beneath it in turn (internal/kmount); where it cannot
// answer, the mount table is read.
func overlayUpper(dir string) (string, error) {
	m, err := kmount.Of(dir)
	for err == nil {
		if m.FSType == "overlay" {
			return mountopt.Get(m.Options, "upperdir"), nil
		}
		if m.Point == "/" || m.Parent == m.ID {
			return "", nil
		}
		m, err = kmount.ByID(m.Parent)
	}
	return overlayUpperFromTable(dir)
}

// overlayUpperFromTable is overlayUpper from /proc/self/mountinfo: the
// overlay mounted at the longest directory that is dir or above it.
func overlayUpperFromTable(dir string) (string, error) {
	mounts, err := mountinfo.GetMounts(mountinfo.FSTypeFilter("overlay"))
	if err != nil {
		return "", fmt.Errorf("read mountinfo: %w", err)
	}
	best, upper := "", ""
	for _, m := range mounts {
		mp := m.Mountpoint
		if (dir == mp || strings.HasPrefix(dir, strings.TrimSuffix(mp, "/")+"/")) && len(mp) >= len(best) {
			best, upper = mp, mountopt.Get(m.VFSOptions, "upperdir")
		}
	}
	return upper, nil
}
