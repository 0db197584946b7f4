package exec

import (
	"fmt"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// Device is a host device node made in the container's /dev, with a
// device cgroup rule that lets the container use it (docker's --device).
type Device struct {
	Path         string // in the container: an absolute path below /dev
	HostPath     string // the host's node, bound where mknod is refused (a user namespace)
	Type         byte   // 'c' or 'b'
	Major, Minor uint32
	Mode         uint32 // the node's permission bits, as the host's
	UID, GID     uint32 // its owner, as the host's
	Access       string // what the rule allows: a non-empty subset of "rwm"
}

// HostDevice is the device node at hostPath (symbolic links followed),
// to be made at containerPath (hostPath if "") with access ("rwm" if ""),
// as docker's --device HOST[:CONTAINER][:PERMS].
func HostDevice(hostPath, containerPath, access string) (Device, error) {
	if containerPath == "" {
		containerPath = hostPath
	}
	if access == "" {
		access = "rwm"
	}
	if err := checkDeviceAccess(access); err != nil {
		return Device{}, err
	}
	var st unix.Stat_t
	if err := unix.Stat(hostPath, &st); err != nil {
		return Device{}, fmt.Errorf("%s: %w", hostPath, err)
	}
	d := Device{HostPath: hostPath, Major: unix.Major(uint64(st.Rdev)), Minor: unix.Minor(uint64(st.Rdev)),
		Mode: st.Mode & 0o7777, UID: st.Uid, GID: st.Gid, Access: access}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR:
		d.Type = 'c'
	case unix.S_IFBLK:
		d.Type = 'b'
	default:
		return Device{}, fmt.Errorf("%s: not a device node", hostPath)
	}
	// Below /dev, the container's own tmpfs: a node elsewhere would be
	// made in its tree (the work tree of a checkout run).
	clean := path.Clean(containerPath)
	if !path.IsAbs(containerPath) || !strings.HasPrefix(clean, "/dev/") {
		return Device{}, fmt.Errorf("%s: the path in the container must be below /dev", containerPath)
	}
	d.Path = clean
	return d, nil
}

// checkDeviceAccess accepts a non-empty subset of "rwm", each once.
func checkDeviceAccess(access string) error {
	seen := map[rune]bool{}
	for _, c := range access {
		if !strings.ContainsRune("rwm", c) || seen[c] {
			return fmt.Errorf("%q: the permissions are some of r, w and m, each once", access)
		}
		seen[c] = true
	}
	if access == "" {
		return fmt.Errorf("no permissions: want some of r, w and m")
	}
	return nil
}

func (d Device) rule() devRule {
	return devRule{typ: d.Type, major: int64(d.Major), minor: int64(d.Minor), access: d.Access}
}

// deviceRules are the rules of a container given devs: the default ones,
// then one a device.
func deviceRules(devs []Device) []devRule {
	rules := append([]devRule(nil), allowedDevices...)
	for _, d := range devs {
		rules = append(rules, d.rule())
	}
	return rules
}

// makeDevices makes each device's node in the container's /dev (dev, an
// fd of it, a fresh tmpfs), with the host's mode and owner, its
// directories as needed. In a user namespace, where mknod is refused,
// the host's node is bound instead.
func makeDevices(rootfd int, devs []Device) error {
	for _, d := range devs {
		dir, err := mkdirInRoot(rootfd, path.Dir(d.Path))
		if err != nil {
			return fmt.Errorf("device %s: %w", d.Path, err)
		}
		err = makeDevice(dir, d)
		unix.Close(dir)
		if err != nil {
			return fmt.Errorf("device %s: %w", d.Path, err)
		}
	}
	return nil
}

func makeDevice(dir int, d Device) error {
	name := path.Base(d.Path)
	typ := uint32(unix.S_IFCHR)
	if d.Type == 'b' {
		typ = unix.S_IFBLK
	}
	// dir is an O_PATH fd: reach it through /proc/self/fd.
	at := fdPath(dir) + "/" + name
	unix.Unlink(at) // a default node (/dev/null given again) is replaced
	err := unix.Mknod(at, typ|d.Mode, int(unix.Mkdev(d.Major, d.Minor)))
	if err != nil {
		f, err := unix.Open(at, unix.O_CREAT|unix.O_WRONLY|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return err
		}
		unix.Close(f)
		return unix.Mount(d.HostPath, at, "", unix.MS_BIND, "")
	}
	if err := unix.Chmod(at, d.Mode); err != nil {
		return err
	}
	return unix.Lchown(at, int(d.UID), int(d.GID))
}
