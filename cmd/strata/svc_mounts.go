package main

import (
	"path/filepath"
	"strings"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// detachInheritedOverlays lazily unmounts, in the supervisor's own mount
// namespace, every overlay it was born with but keep, the tree its
// service runs on. A new mount namespace holds a copy of every mount the
// host had, and where the host's mounts do not propagate (no systemd: /
// is private, as on this project's test machine) an unmount on the host
// never reaches the copy. For as long as the service ran, it kept alive
// every checkout and every docker or podman container mounted when it
// started: mounting one of those uppers again (reset --soft, a restarted
// container) drew "upperdir is in-use", two overlays on one upper, and the
// file systems beneath could not be released.
//
// An overlay at / or above keep or repoDir stays: strata in a container
// runs on one (its root), and detaching it would take /proc, the
// repository and the tree with it.
func detachInheritedOverlays(keep, repoDir string) error {
	ms, err := mountinfo.GetMounts(mountinfo.FSTypeFilter("overlay"))
	if err != nil {
		return err
	}
	var points []string
	for _, m := range ms {
		points = append(points, m.Mountpoint)
	}
	for _, p := range overlaysToDetach(points, realPath(keep), realPath(repoDir)) {
		// Detaching a mount detaches those below it as well: a later
		// one may be gone already (EINVAL).
		unix.Unmount(p, unix.MNT_DETACH)
	}
	return nil
}

// overlaysToDetach picks, of the overlay mount points, those that are not
// /, keep, or at or above keep or repoDir.
func overlaysToDetach(points []string, keep, repoDir string) []string {
	var out []string
	for _, p := range points {
		if p != "/" && !within(keep, p) && !within(repoDir, p) {
			out = append(out, p)
		}
	}
	return out
}

// within reports whether path is dir or below it.
func within(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, strings.TrimSuffix(dir, string(filepath.Separator))+string(filepath.Separator))
}
