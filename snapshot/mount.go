package snapshot

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/moby/sys/mountinfo"
	"github.com/strata-sh/strata/internal/kmount"
	"github.com/strata-sh/strata/internal/mountopt"

	"golang.org/x/sys/unix"
)

// ErrNeedRoot: mounting an overlay takes CAP_SYS_ADMIN.
var ErrNeedRoot = errors.New("permission denied")

// Mount is one mount to make: a plan, made apart from mounting so that it
// can be checked without root.
type Mount struct {
	Type    string   // "overlay"
	Target  string   // where it goes
	Lowers  []string // topmost first
	Upper   string
	Work    string
	Options []string // "key=value" settings passed to fsconfig
}

// Overlay options, chosen so that an upper directory converts to exactly
// one layer:
//   - index=off: no inode index; hardlinks to lower files are copied up
//     separately (the layer writer records them from the upper), and
//     snapshots can be shared by many mounts at once.
//   - redirect_dir=on: a renamed lower directory is a rename, not EXDEV
//     (programs such as Go's os.Rename do not fall back to copying); the
//     layer writer reads the lowers to write such a directory whole.
//   - metacopy=off: a copied-up file holds its data, so a commit never has
//     to read a lower.
//   - xino=off: inode numbers are the overlay's own; nothing relies on them
//     being stable across remounts.
var overlayOptions = []string{"index=off", "redirect_dir=on", "metacopy=off", "xino=off"}

// Plan returns the overlay mount of lowers (topmost first) on target.
func Plan(lowers []string, upper, work, target string) Mount {
	return Mount{
		Type: "overlay", Target: target,
		Lowers: append([]string(nil), lowers...), Upper: upper, Work: work,
		Options: append([]string(nil), overlayOptions...),
	}
}

// MountAttrs are the attributes of every work-tree mount on the host.
const MountAttrs = unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV

// moveMountBeneath (Linux 6.5) puts a mount under the one at the target.
const moveMountBeneath = 0x200

// Do makes the mount with the new mount API: each lower is one
// "lowerdir+" setting, so neither the one-page option string nor its
// escaping limit the number of layers.
func (m Mount) Do() error { return m.do(0) }

// DoBeneath mounts m under the mount at Target; unmounting that one then
// reveals m. That swaps work trees without a moment where Target is empty.
func (m Mount) DoBeneath() error { return m.do(moveMountBeneath) }

// needRoot is the error of a mount refused for want of CAP_SYS_ADMIN.
func needRoot() error {
	return fmt.Errorf("%w: overlay work trees need root (CAP_SYS_ADMIN); rootless checkouts are not supported yet", ErrNeedRoot)
}

// CanMount says whether this process may mount an overlay, by asking the
// kernel for an overlay context (fsopen) and closing it: nil, or an
// ErrNeedRoot error to give before any work for a mount is done.
func CanMount() error {
	fsfd, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if errors.Is(err, unix.EPERM) {
		return needRoot()
	}
	if err != nil {
		return fmt.Errorf("fsopen overlay: %w", err)
	}
	unix.Close(fsfd)
	return nil
}

// Open makes the mount without attaching it anywhere: the file is its
// root (a path below /proc/self/fd reads it), and closing the file
// unmounts it, however the process ends. Target is only a name for
// errors. Without an upper the mount is read-only and needs two lowers.
func (m Mount) Open() (*os.File, error) {
	mfd, err := m.fsmount()
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(mfd), m.Target), nil
}

func (m Mount) do(flags int) error {
	mfd, err := m.fsmount()
	if err != nil {
		return err
	}
	// The mount fd must be closed before anyone unmounts, or umount says EBUSY.
	defer unix.Close(mfd)
	if err := unix.MoveMount(mfd, "", unix.AT_FDCWD, m.Target, unix.MOVE_MOUNT_F_EMPTY_PATH|flags); err != nil {
		return fmt.Errorf("mount %s: move_mount: %w", m.Target, err)
	}
	return nil
}

// fsmount configures m and returns the fd of the new, detached mount.
func (m Mount) fsmount() (int, error) {
	fsfd, err := unix.Fsopen(m.Type, unix.FSOPEN_CLOEXEC)
	if errors.Is(err, unix.EPERM) && os.Geteuid() != 0 {
		return -1, fmt.Errorf("mount %s: %w", m.Target, needRoot())
	}
	if err != nil {
		return -1, fmt.Errorf("mount %s: fsopen: %w", m.Target, err)
	}
	defer unix.Close(fsfd)
	set := func(key, value string) error {
		if err := unix.FsconfigSetString(fsfd, key, value); err != nil {
			return fmt.Errorf("mount %s: %s=%s: %w%s", m.Target, key, value, err, fsLog(fsfd))
		}
		return nil
	}
	for _, l := range m.Lowers {
		if err := set("lowerdir+", l); err != nil {
			return -1, err
		}
	}
	if m.Upper != "" {
		// overlayfs unescapes these two (ovl_mount_dir): a backslash in
		// the path is written twice. lowerdir+ takes its path as it is.
		if err := set("upperdir", mountopt.Escape(m.Upper)); err != nil {
			return -1, err
		}
		if err := set("workdir", mountopt.Escape(m.Work)); err != nil {
			return -1, err
		}
	}
	for _, o := range m.Options {
		k, v, _ := strings.Cut(o, "=")
		if err := set(k, v); err != nil {
			return -1, err
		}
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return -1, fmt.Errorf("mount %s: %w%s", m.Target, err, fsLog(fsfd))
	}
	// nosuid,nodev: the host sees the work tree, and a container must not
	// plant a setuid binary or a device node for the host's users there.
	// Inside a container the runtime remounts a bind without them.
	mfd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, MountAttrs)
	if err != nil {
		return -1, fmt.Errorf("mount %s: fsmount: %w%s", m.Target, err, fsLog(fsfd))
	}
	return mfd, nil
}

// fsLog reads the kernel's messages about a failed fsconfig.
func fsLog(fd int) string {
	var msgs []string
	buf := make([]byte, 1024)
	for {
		n, err := unix.Read(fd, buf)
		if err != nil || n <= 0 {
			break
		}
		msgs = append(msgs, strings.TrimSpace(string(buf[:n])))
	}
	if len(msgs) == 0 {
		return ""
	}
	return " (" + strings.Join(msgs, "; ") + ")"
}

// Unmount detaches the mount at target, lazily if it is busy.
func Unmount(target string) error {
	err := unix.Unmount(target, 0)
	if errors.Is(err, unix.EBUSY) {
		err = unix.Unmount(target, unix.MNT_DETACH)
	}
	if err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmount %s: %w", target, err)
	}
	return nil
}

// MountInfo is what the kernel says of one mount point.
type MountInfo struct {
	Target  string
	FSType  string
	Options string // the file system's options as the kernel shows them (escaped)
	Upper   string // the overlay's upperdir, unescaped
}

// Mounted returns the topmost mount at target, or ok=false. The kernel
// is asked about that mount alone where it can be (internal/kmount); else
// the mount table is parsed by github.com/moby/sys/mountinfo, which
// unescapes the mount point. The super options are split and unescaped
// by SuperOption (a path with a space shows as \040 there, a comma as
// \054).
func Mounted(target string) (MountInfo, bool, error) {
	m, err := kmount.Of(target)
	switch {
	case err == nil && m.Point != target:
		return MountInfo{}, false, nil
	case err == nil:
		return MountInfo{Target: target, FSType: m.FSType, Options: m.Options,
			Upper: SuperOption(m.Options, "upperdir")}, true, nil
	case errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR):
		return MountInfo{}, false, nil // nothing there to mount on
	}
	return mountedFromTable(target)
}

// mountedFromTable is Mounted from /proc/self/mountinfo.
func mountedFromTable(target string) (MountInfo, bool, error) {
	at, err := mountinfo.GetMounts(func(i *mountinfo.Info) (skip, stop bool) {
		return i.Mountpoint != target, false
	})
	if err != nil {
		return MountInfo{}, false, fmt.Errorf("read mountinfo: %w", err)
	}
	// The topmost is the one no other mount at target sits on.
	for _, e := range at {
		top := true
		for _, o := range at {
			if o.Parent == e.ID {
				top = false
			}
		}
		if top {
			return MountInfo{Target: target, FSType: e.FSType, Options: e.VFSOptions,
				Upper: SuperOption(e.VFSOptions, "upperdir")}, true, nil
		}
	}
	return MountInfo{}, false, nil
}

// OverlaysAbove returns the overlay mounts dir lies in, innermost first:
// the one it resolves into, if an overlay, and those that mount sits on
// in turn, up to this process's root.
func OverlaysAbove(dir string) ([]MountInfo, error) {
	var found []MountInfo
	m, err := kmount.Of(dir)
	for err == nil {
		if m.FSType == "overlay" {
			found = append(found, MountInfo{Target: m.Point, FSType: m.FSType, Options: m.Options,
				Upper: SuperOption(m.Options, "upperdir")})
		}
		if m.Point == "/" || m.Parent == m.ID {
			return found, nil
		}
		m, err = kmount.ByID(m.Parent)
	}
	return overlaysAboveFromTable(dir)
}

// overlaysAboveFromTable is OverlaysAbove from /proc/self/mountinfo: the
// overlays mounted at dir or at a directory above it, longest first.
func overlaysAboveFromTable(dir string) ([]MountInfo, error) {
	mounts, err := mountinfo.GetMounts(mountinfo.FSTypeFilter("overlay"))
	if err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	var found []MountInfo
	for _, e := range mounts {
		if mp := e.Mountpoint; dir == mp || strings.HasPrefix(dir, strings.TrimSuffix(mp, "/")+"/") {
			found = append(found, MountInfo{Target: mp, FSType: e.FSType, Options: e.VFSOptions,
				Upper: SuperOption(e.VFSOptions, "upperdir")})
		}
	}
	sort.SliceStable(found, func(i, j int) bool { return len(found[i].Target) > len(found[j].Target) })
	return found, nil
}

// SuperOption returns the unescaped value of option key in the super
// options of a mountinfo line, "" if absent.
func SuperOption(opts, key string) string { return mountopt.Get(opts, key) }

// Unescape undoes mountinfo's octal escapes (\040 for a space).
func Unescape(s string) string { return mountopt.UnescapeOctal(s) }
