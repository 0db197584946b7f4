package exec

import (
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Paths hidden from the container (runc's and Docker's defaults): files get
// /dev/null bound over them, directories an empty read-only tmpfs.
var maskedPaths = []string{
	"/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys",
	"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
	"/proc/sched_debug", "/proc/scsi", "/sys/firmware",
	"/sys/devices/virtual/powercap",
}

// Paths made read-only inside the container.
var readonlyPaths = []string{
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
}

// fdPath names an open file for mount(2): the kernel follows the magic link
// to exactly that object, so no path is resolved twice.
func fdPath(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }

// openInRoot opens p inside the tree at rootfd, resolving symlinks and ".."
// as if rootfd were "/": nothing outside the root is ever reached.
func openInRoot(rootfd int, p string, flags int) (int, error) {
	how := unix.OpenHow{
		Flags:   uint64(flags | unix.O_CLOEXEC),
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	}
	p = strings.TrimLeft(path.Clean("/"+p), "/")
	if p == "" {
		p = "."
	}
	for {
		fd, err := unix.Openat2(rootfd, p, &how)
		if err != unix.EINTR && err != unix.EAGAIN {
			return fd, err
		}
	}
}

// mkdirInRoot opens directory p inside the root, creating missing components
// (mount points for /proc, /dev, /sys and user mounts, as runc does).
func mkdirInRoot(rootfd int, p string) (int, error) {
	fd, err := openInRoot(rootfd, p, unix.O_PATH|unix.O_DIRECTORY)
	if err == nil || !errors.Is(err, unix.ENOENT) {
		return fd, err
	}
	parent, err := mkdirInRoot(rootfd, path.Dir(path.Clean("/"+p)))
	if err != nil {
		return -1, err
	}
	defer unix.Close(parent)
	if err := unix.Mkdirat(parent, path.Base(p), 0o755); err != nil && err != unix.EEXIST {
		return -1, fmt.Errorf("mkdir %s: %w", p, err)
	}
	return openInRoot(rootfd, p, unix.O_PATH|unix.O_DIRECTORY)
}

// createFileInRoot opens file p inside the root, creating an empty file
// (a mount point for a file bind mount) when it is missing.
func createFileInRoot(rootfd int, p string) (int, error) {
	fd, err := openInRoot(rootfd, p, unix.O_PATH)
	if err == nil || !errors.Is(err, unix.ENOENT) {
		return fd, err
	}
	parent, err := mkdirInRoot(rootfd, path.Dir(path.Clean("/"+p)))
	if err != nil {
		return -1, err
	}
	defer unix.Close(parent)
	// parent is O_PATH: create through its /proc path.
	f, err := unix.Open(fdPath(parent)+"/"+path.Base(p), unix.O_CREAT|unix.O_WRONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o644)
	if err != nil {
		return -1, fmt.Errorf("create %s: %w", p, err)
	}
	unix.Close(f)
	return openInRoot(rootfd, p, unix.O_PATH)
}

// mountAt mounts onto p inside the root.
func mountAt(rootfd int, p, source, fstype string, flags uintptr, data string) error {
	fd, err := mkdirInRoot(rootfd, p)
	if err != nil {
		return fmt.Errorf("mount %s: %w", p, err)
	}
	defer unix.Close(fd)
	if err := unix.Mount(source, fdPath(fd), fstype, flags, data); err != nil {
		return fmt.Errorf("mount %s on %s: %w", fstype, p, err)
	}
	return nil
}

// bindTree clones the mount tree at source (a path), makes it read-only if
// asked (recursively), and attaches it on target.
func bindTree(source string, targetfd int, readonly, recursive bool) error {
	if err := bindTreeAt(unix.AT_FDCWD, source, targetfd, readonly, recursive); err != nil {
		return fmt.Errorf("%s: %w", source, err)
	}
	return nil
}

// bindTreeAt is bindTree of the path source below dirfd, or of dirfd
// itself when source is "".
func bindTreeAt(dirfd int, source string, targetfd int, readonly, recursive bool) error {
	flags := unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC
	if recursive {
		flags |= unix.AT_RECURSIVE
	}
	if source == "" {
		flags |= unix.AT_EMPTY_PATH
	}
	tree, err := unix.OpenTree(dirfd, source, uint(flags))
	if err != nil {
		return fmt.Errorf("open_tree: %w", err)
	}
	defer unix.Close(tree)
	if readonly {
		attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
		at := unix.AT_EMPTY_PATH
		if recursive {
			at |= unix.AT_RECURSIVE
		}
		if err := unix.MountSetattr(tree, "", uint(at), &attr); err != nil {
			return fmt.Errorf("make read-only: %w", err)
		}
	}
	if err := unix.MoveMount(tree, "", targetfd, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("move_mount: %w", err)
	}
	return nil
}

type devNode struct {
	name         string
	major, minor uint32
}

var devNodes = []devNode{
	{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7},
	{"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
}

// setupDev mounts a minimal /dev: a tmpfs with the usual nodes, a private
// devpts instance, shm and the /proc/self/fd symlinks.
func setupDev(rootfd int) error {
	if err := mountAt(rootfd, "dev", "tmpfs", "tmpfs", unix.MS_NOSUID|unix.MS_STRICTATIME, "mode=755,size=65536k"); err != nil {
		return err
	}
	dev, err := openInRoot(rootfd, "dev", unix.O_DIRECTORY|unix.O_RDONLY)
	if err != nil {
		return fmt.Errorf("open /dev: %w", err)
	}
	defer unix.Close(dev)
	for _, n := range devNodes {
		err := unix.Mknodat(dev, n.name, unix.S_IFCHR|0o666, int(unix.Mkdev(n.major, n.minor)))
		if err == nil {
			err = unix.Fchmodat(dev, n.name, 0o666, 0)
		}
		if err != nil {
			// In a user namespace mknod is refused: bind the host's node.
			if err := bindHostDev(dev, n.name); err != nil {
				return err
			}
		}
	}
	for _, d := range []string{"pts", "shm", "mqueue"} {
		if err := unix.Mkdirat(dev, d, 0o755); err != nil {
			return fmt.Errorf("mkdir /dev/%s: %w", d, err)
		}
	}
	if err := mountAt(rootfd, "dev/pts", "devpts", "devpts", unix.MS_NOSUID|unix.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620"); err != nil {
		return err
	}
	if err := mountAt(rootfd, "dev/shm", "shm", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=1777,size=65536k"); err != nil {
		return err
	}
	if err := mountAt(rootfd, "dev/mqueue", "mqueue", "mqueue", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		// mqueue needs an IPC namespace owned by our user namespace; optional.
		unix.Unlinkat(dev, "mqueue", unix.AT_REMOVEDIR)
	}
	links := [][2]string{
		{"pts/ptmx", "ptmx"}, {"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"},
		{"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"},
	}
	for _, l := range links {
		if err := unix.Symlinkat(l[0], dev, l[1]); err != nil {
			return fmt.Errorf("symlink /dev/%s: %w", l[1], err)
		}
	}
	return nil
}

func bindHostDev(dev int, name string) error {
	f, err := unix.Openat(dev, name, unix.O_CREAT|unix.O_WRONLY|unix.O_CLOEXEC, 0o666)
	if err != nil {
		return fmt.Errorf("create /dev/%s: %w", name, err)
	}
	unix.Close(f)
	if err := unix.Mount("/dev/"+name, fdPath(dev)+"/"+name, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind /dev/%s: %w", name, err)
	}
	return nil
}

// setupSys mounts a fresh sysfs, read-only unless privileged. Where sysfs
// cannot be mounted (a user namespace sharing the host's network namespace)
// the host's /sys is bound read-only instead.
func setupSys(rootfd int, privileged bool) error {
	var flags uintptr = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
	if !privileged {
		flags |= unix.MS_RDONLY
	}
	err := mountAt(rootfd, "sys", "sysfs", "sysfs", flags, "")
	if err == nil || !errors.Is(err, unix.EPERM) {
		return err
	}
	fd, err := mkdirInRoot(rootfd, "sys")
	if err != nil {
		return fmt.Errorf("mount /sys: %w", err)
	}
	defer unix.Close(fd)
	return bindTree("/sys", fd, true, true)
}

// bindEtcFiles binds strata's hostname, hosts and resolv.conf over the
// root's files. A file the root lacks is not provided: creating it would
// write into the root, which strata never does for these files.
func bindEtcFiles(rootfd int, dir string) error {
	for _, name := range []string{"hostname", "hosts", "resolv.conf"} {
		fd, err := openInRoot(rootfd, "etc/"+name, unix.O_PATH)
		if err != nil {
			continue
		}
		var st unix.Stat_t
		if unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG {
			err = unix.Mount(path.Join(dir, name), fdPath(fd), "", unix.MS_BIND, "")
		}
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("bind /etc/%s: %w", name, err)
		}
	}
	return nil
}

// userMount attaches one Mount of the spec inside the root.
func userMount(rootfd int, m Mount) error {
	switch m.Type {
	case "tmpfs":
		flags, data, err := tmpfsOptions(m.Options, m.ReadOnly)
		if err != nil {
			return fmt.Errorf("mount %s: %w", m.Target, err)
		}
		return mountAt(rootfd, m.Target, "tmpfs", "tmpfs", flags, data)
	case "", "bind":
		src, err := openBindSource(m.Source)
		if err != nil {
			return fmt.Errorf("bind mount %s: %w", m.Source, err)
		}
		defer unix.Close(src)
		var st unix.Stat_t
		if err := unix.Fstat(src, &st); err != nil {
			return fmt.Errorf("bind mount %s: %w", m.Source, err)
		}
		var fd int
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			fd, err = mkdirInRoot(rootfd, m.Target)
		} else {
			fd, err = createFileInRoot(rootfd, m.Target)
		}
		if err != nil {
			return fmt.Errorf("bind mount %s: %w", m.Target, err)
		}
		defer unix.Close(fd)
		if err := bindTreeAt(src, "", fd, m.ReadOnly, true); err != nil {
			return fmt.Errorf("bind mount %s on %s: %w", m.Source, m.Target, err)
		}
		return nil
	}
	return fmt.Errorf("mount %s: unknown type %q", m.Target, m.Type)
}

// ErrLinkInBindSource: a bind's host path has a symbolic link on the way.
var ErrLinkInBindSource = errors.New("a symbolic link is in its way (the path is resolved before the start: one was put there since)")

// openBindSource opens a bind's host path, which must be absolute with no
// symbolic link on the way. The caller resolved it (and checked where it
// leads) before the container started; opening it so, and binding what is
// open, leaves no instant between that check and the mount in which a
// link put in its way (by a container that can write there: a work tree)
// could send the mount elsewhere on the host.
func openBindSource(p string) (int, error) {
	if !path.IsAbs(p) {
		return -1, fmt.Errorf("not an absolute path")
	}
	how := unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	}
	for {
		fd, err := unix.Openat2(unix.AT_FDCWD, p, &how)
		switch {
		case err == unix.EINTR || err == unix.EAGAIN:
			continue
		case err == unix.ELOOP:
			return -1, ErrLinkInBindSource
		case err != nil:
			return -1, err
		}
		return fd, nil
	}
}

// pivotRoot makes rootfd the new "/" and detaches the old root entirely.
func pivotRoot(rootfd int) error {
	if err := unix.Fchdir(rootfd); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	// pivot_root(".", ".") stacks the old root on top of the new one;
	// unmounting "." then removes the old root without a temporary dir.
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("pivot_root: detach old root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	return nil
}

// maskPaths hides and write-protects kernel interfaces (after pivot_root).
func maskPaths() error {
	for _, p := range maskedPaths {
		var st unix.Stat_t
		if err := unix.Stat(p, &st); err != nil {
			continue
		}
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			if err := unix.Mount("tmpfs", p, "tmpfs", unix.MS_RDONLY, "size=0"); err != nil {
				return fmt.Errorf("mask %s: %w", p, err)
			}
			continue
		}
		fd, err := unix.Open(p, unix.O_PATH|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
		if err != nil {
			continue
		}
		err = bindTree("/dev/null", fd, false, false)
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("mask %s: %w", p, err)
		}
	}
	for _, p := range readonlyPaths {
		fd, err := unix.Open(p, unix.O_PATH|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
		if err != nil {
			continue
		}
		err = bindTree(p, fd, true, true)
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("read-only %s: %w", p, err)
		}
	}
	return nil
}

// allowSuidDev clears nosuid and nodev on the container's own bind of its
// root: the host sees a work tree nosuid,nodev (so nothing planted there
// works for the host's users), while setuid files and device nodes keep
// their meaning inside (the device cgroup decides which nodes open). Only
// the root mount itself: mounts below it keep their flags. In a user
// namespace the flags are locked; the container keeps them.
func allowSuidDev(rootfd int, userNS bool) error {
	attr := unix.MountAttr{Attr_clr: unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV}
	err := unix.MountSetattr(rootfd, "", unix.AT_EMPTY_PATH, &attr)
	if err != nil && !(userNS && err == unix.EPERM) {
		return fmt.Errorf("allow setuid and devices on root: %w", err)
	}
	return nil
}

// readonlyRoot makes "/" itself read-only, leaving /proc, /dev and the user's
// mounts as they are.
func readonlyRoot() error {
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
	if err := unix.MountSetattr(unix.AT_FDCWD, "/", 0, &attr); err != nil {
		return fmt.Errorf("read-only root: %w", err)
	}
	return nil
}

// loopbackUp brings lo up in a new network namespace.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("lo up: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("lo up: %w", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("lo up: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("lo up: %w", err)
	}
	return nil
}

// mountCgroups shows a container that has a cgroup its own part of the
// hierarchy, read-only, as Docker does: programs size themselves by it (the
// Go runtime and the JVM read their CPU and memory limits there). The
// cgroup namespace makes the container's cgroup the root of these mounts.
func mountCgroups(rootfd int, cfg *initConfig) error {
	const ro = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_RDONLY
	if cfg.CgroupV2 {
		return mountAt(rootfd, "sys/fs/cgroup", "cgroup2", "cgroup2", ro, "")
	}
	if len(cfg.CgroupV1) == 0 {
		return nil
	}
	if err := mountAt(rootfd, "sys/fs/cgroup", "tmpfs", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=755,size=64k"); err != nil {
		return err
	}
	for _, c := range cfg.CgroupV1 {
		if err := mountAt(rootfd, "sys/fs/cgroup/"+c, "cgroup", "cgroup", ro, c); err != nil {
			return err
		}
	}
	fd, err := openInRoot(rootfd, "sys/fs/cgroup", unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return fmt.Errorf("mount /sys/fs/cgroup: %w", err)
	}
	defer unix.Close(fd)
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &attr); err != nil {
		return fmt.Errorf("read-only /sys/fs/cgroup: %w", err)
	}
	return nil
}
