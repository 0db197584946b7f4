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
// repository and the tree with it. So does one a volume binds (the
// source's own mount, one above it, or one below it that the recursive
// bind takes along): the container must see what the host sees there.
func detachInheritedOverlays(keep, repoDir string, volumes []string) error {
	ms, err := mountinfo.GetMounts(mountinfo.FSTypeFilter("overlay"))
	if err != nil {
		return err
	}
	var points []string
	for _, m := range ms {
		points = append(points, m.Mountpoint)
	}
	var sources []string
	for _, v := range volumes {
		sources = append(sources, realPath(v))
	}
	for _, p := range overlaysToDetach(points, realPath(keep), realPath(repoDir), sources) {
		// Detaching a mount detaches those below it as well: a later
		// one may be gone already (EINVAL).
		unix.Unmount(p, unix.MNT_DETACH)
	}
	return nil
}

// overlaysToDetach picks, of the overlay mount points, those that are not
// /, keep, at or above keep or repoDir, or at, above or below a volume's
// source.
func overlaysToDetach(points []string, keep, repoDir string, sources []string) []string {
	var out []string
next:
	for _, p := range points {
		if p == "/" || within(keep, p) || within(repoDir, p) {
			continue
		}
		for _, src := range sources {
			if within(src, p) || within(p, src) {
				continue next
			}
		}
		out = append(out, p)
	}
	return out
}

// within reports whether path is dir or below it.
func within(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, strings.TrimSuffix(dir, string(filepath.Separator))+string(filepath.Separator))
}
