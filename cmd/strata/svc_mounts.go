package main

import (
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
func detachInheritedOverlays(keep string) error {
	keep = realPath(keep)
	ms, err := mountinfo.GetMounts(mountinfo.FSTypeFilter("overlay"))
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.Mountpoint != keep {
			// Detaching a mount detaches those below it as well: a later
			// one may be gone already (EINVAL).
			unix.Unmount(m.Mountpoint, unix.MNT_DETACH)
		}
	}
	return nil
}
