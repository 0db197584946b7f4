package kmount

import (
	"errors"
	"fmt"
	"strings"
	"unsafe"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// The mounts below a directory, from listmount(2) (Linux 6.8): the
// mounts under one mount, by id, each then described by statmount. A
// directory that is a mount point (a checkout's overlay) has every
// mount below it under its own mount, the bottom one of a stack there:
// a handful of system calls, 0.03 ms with 500 mounts on the host where
// the table took 0.83 ms (BenchmarkBelow). A directory that is no mount point shares its
// mount with the rest of that file system, often the host's root, under
// which lies nearly every mount: each would be described in turn, at
// the table's cost, so past maxListed the table is read instead.

// maxListed is how many mounts under a directory's mount are described
// one by one before reading the table is cheaper.
const maxListed = 64

// sysListmount is listmount's number; a test sets one the kernel lacks
// to play a kernel before 6.8.
var sysListmount uintptr = unix.SYS_LISTMOUNT

// Below returns the mount points at or below dir, as mountinfo's
// PrefixFilter(dir) would, each as often as mounted there. dir is
// absolute and clean. Mounts hidden beneath a mount stacked on one of
// dir's parents are not listed: no path reaches them, and the table
// shows them where an unmount of that path detaches another.
// Where the kernel does not answer (ErrCannot) or fails (statx denied
// on a parent), the table answers, as it did before.
func Below(dir string) ([]string, error) {
	points, err := below(dir)
	if err != nil {
		return belowFromTable(dir)
	}
	return points, nil
}

// belowFromTable is Below from /proc/self/mountinfo.
func belowFromTable(dir string) ([]string, error) {
	ms, err := mountinfo.GetMounts(mountinfo.PrefixFilter(dir))
	if err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	points := make([]string, len(ms))
	for i, m := range ms {
		points[i] = m.Mountpoint
	}
	return points, nil
}

// below is Below from statx, listmount and statmount.
func below(dir string) ([]string, error) {
	if dir == "/" || !strings.HasPrefix(dir, "/") {
		return nil, ErrCannot
	}
	m, err := of(dir, statmountWhere)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
		return nil, nil // nothing there to mount on
	}
	if err != nil {
		return nil, err
	}
	// The bottom of a stack at dir holds everything mounted there.
	for m.Point == dir {
		p, err := byID(m.Parent, statmountWhere)
		if err != nil {
			return nil, err
		}
		if p.Point != dir {
			break
		}
		m = p
	}
	var points []string
	if m.Point == dir {
		points = append(points, dir)
	}
	// A kernel may list a mount's children only, or all below it: those
	// found below dir are listed in turn, each mount taken once.
	seen := map[uint64]bool{m.ID: true}
	queue := []uint64{m.ID}
	described := 0
	for len(queue) > 0 {
		ids, err := list(queue[0])
		queue = queue[1:]
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if seen[id] {
				continue
			}
			seen[id] = true
			if described++; described > maxListed {
				return nil, ErrCannot
			}
			c, err := byID(id, statmountWhere)
			if errors.Is(err, unix.ENOENT) {
				continue // unmounted meanwhile
			}
			if err != nil {
				return nil, err
			}
			if c.Point == dir || strings.HasPrefix(c.Point, dir+"/") {
				points = append(points, c.Point)
				queue = append(queue, id)
			}
		}
	}
	return points, nil
}

// list returns the ids listmount gives for the mounts under mount id:
// one call for up to maxListed+1 of them, ErrCannot past maxListed (the
// table costs less than describing them one by one).
func list(id uint64) ([]uint64, error) {
	buf := make([]uint64, maxListed+1)
	req := mntIDReq{size: uint32(unsafe.Sizeof(mntIDReq{})), mntID: id}
	n, _, errno := unix.Syscall6(sysListmount, uintptr(unsafe.Pointer(&req)),
		uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0, 0)
	switch {
	case errno == unix.ENOSYS || errno == unix.EINVAL || errno == unix.EPERM:
		return nil, ErrCannot
	case errno != 0:
		return nil, fmt.Errorf("listmount %d: %w", id, errno)
	case int(n) > maxListed:
		return nil, ErrCannot
	}
	return buf[:n], nil
}
