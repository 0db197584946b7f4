// Package kmount asks the kernel about mounts one at a time: statx(2)
// names the mount a path lies in, statmount(2) describes a mount and
// listmount(2) lists those below one, instead of reading the whole of
// /proc/self/mountinfo. Where these cannot answer (ErrCannot), callers
// read the table as before.
package kmount

import (
	"bytes"
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Asking the kernel about one mount, rather than reading the whole of
// /proc/self/mountinfo: the kernel writes that file out in full on every
// read, at a cost that grows with every mount on the host (0.47 ms for
// 500 here). Most strata commands ask about their work tree's mount once
// or twice; statx(2) names the mount a path lies in (STATX_MNT_ID_UNIQUE,
// Linux 6.8) and statmount(2) describes it (its options since 6.11), at
// the same cost with 20 mounts or 20,000. On older kernels, and wherever
// these cannot answer, the callers read mountinfo as before.

// ErrCannot says statx, statmount or listmount cannot answer here: the
// caller reads mountinfo instead.
var ErrCannot = errors.New("statmount cannot answer")

// statmount(2)'s request mask (include/uapi/linux/mount.h).
const (
	statmountMntBasic = 0x2
	statmountMntPoint = 0x10
	statmountFSType   = 0x20
	statmountMntOpts  = 0x80 // Linux 6.11

	statmountWhere = statmountMntBasic | statmountMntPoint | statmountFSType // Linux 6.8
	statmountWant  = statmountWhere | statmountMntOpts
)

// mntIDReq is struct mnt_id_req in its first version (24 bytes).
type mntIDReq struct {
	size  uint32
	spare uint32
	mntID uint64
	param uint64
}

// statmountHead is the fixed part of struct statmount up to mnt_point;
// the kernel's is 512 bytes, and its strings follow it.
type statmountHead struct {
	size, mntOpts            uint32
	mask                     uint64
	sbDevMajor, sbDevMinor   uint32
	sbMagic                  uint64
	sbFlags, fsType          uint32
	mntID, mntParentID       uint64
	mntIDOld, mntParentIDOld uint32
	mntAttr, mntPropagation  uint64
	mntPeerGroup, mntMaster  uint64
	propagateFrom            uint64
	mntRoot, mntPoint        uint32
}

const statmountSize = 512

// Mount is what statmount says of one mount.
type Mount struct {
	ID, Parent uint64
	FSType     string
	Point      string // relative to this process's root, unescaped
	Options    string // the file system's own, escaped as in mountinfo
}

// Of describes the mount path resolves into: for a mount point, the
// topmost mount there. The last element is not followed if a link. A
// path that does not exist gives an error that wraps unix.ENOENT.
func Of(path string) (Mount, error) { return of(path, statmountWant) }

// of is Of asking statmount for want.
func of(path string, want uint64) (Mount, error) {
	var st unix.Statx_t
	flags := unix.AT_SYMLINK_NOFOLLOW | unix.AT_NO_AUTOMOUNT | unix.AT_STATX_DONT_SYNC
	if err := unix.Statx(unix.AT_FDCWD, path, flags, unix.STATX_MNT_ID_UNIQUE, &st); err != nil {
		if errors.Is(err, unix.ENOSYS) {
			return Mount{}, ErrCannot
		}
		return Mount{}, fmt.Errorf("statx %s: %w", path, err)
	}
	if st.Mask&unix.STATX_MNT_ID_UNIQUE == 0 {
		return Mount{}, ErrCannot
	}
	return byID(st.Mnt_id, want)
}

// ByID describes the mount with unique id id.
func ByID(id uint64) (Mount, error) { return byID(id, statmountWant) }

// byID is ByID asking statmount for want: without statmountMntOpts, the
// options are left out and an overlay's answer is trusted without them.
func byID(id, want uint64) (Mount, error) {
	req := mntIDReq{size: uint32(unsafe.Sizeof(mntIDReq{})), mntID: id, param: want}
	// An overlay of many layers shows a long option string: grow the
	// buffer as the kernel asks (EOVERFLOW), up to 4 MiB.
	buf := make([]uint64, 2048) // 16 KiB, 8-byte aligned for the header
	for {
		b := unsafe.Slice((*byte)(unsafe.Pointer(&buf[0])), len(buf)*8)
		_, _, errno := unix.Syscall6(unix.SYS_STATMOUNT, uintptr(unsafe.Pointer(&req)),
			uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), 0, 0, 0)
		switch {
		case errno == unix.EOVERFLOW && len(b) < 4<<20:
			buf = make([]uint64, len(buf)*4)
			continue
		case errno == unix.ENOSYS || errno == unix.EINVAL || errno == unix.EPERM:
			return Mount{}, ErrCannot
		case errno != 0:
			return Mount{}, fmt.Errorf("statmount %d: %w", id, errno)
		}
		return parse(b, want&statmountMntOpts != 0)
	}
}

// parse reads the kernel's answer in b; an overlay's without options is
// refused if opts were asked for.
func parse(b []byte, opts bool) (Mount, error) {
	h := (*statmountHead)(unsafe.Pointer(&b[0]))
	if h.size < statmountSize || int(h.size) > len(b) {
		return Mount{}, fmt.Errorf("statmount: answer of %d bytes: %w", h.size, ErrCannot)
	}
	need := uint64(statmountMntBasic | statmountMntPoint | statmountFSType)
	if h.mask&need != need {
		return Mount{}, ErrCannot
	}
	strs := b[statmountSize:h.size]
	str := func(off uint32) string {
		if int(off) >= len(strs) {
			return ""
		}
		s := strs[off:]
		if i := bytes.IndexByte(s, 0); i >= 0 {
			s = s[:i]
		}
		return string(s)
	}
	m := Mount{ID: h.mntID, Parent: h.mntParentID, FSType: str(h.fsType), Point: str(h.mntPoint)}
	if h.mask&statmountMntOpts != 0 {
		m.Options = str(h.mntOpts)
	} else if opts && m.FSType == "overlay" {
		// The kernel leaves the bit unset both when it has no options
		// to show (6.11 on) and when it cannot show them (6.8 to 6.10);
		// an overlay always has some.
		return Mount{}, ErrCannot
	}
	return m, nil
}
