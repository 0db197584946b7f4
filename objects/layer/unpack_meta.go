package layer

// An entry's metadata as the unpacker sets it: owner, mode, xattrs and
// times, the directories' times last.

import (
	"archive/tar"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"golang.org/x/sys/unix"
)

// metaFD sets owner, mode, xattrs and (for non-directories) times through
// an open fd, without the owner and mode calls how does not ask for.
// Directory times are deferred until the end.
func (u *unpacker) metaFD(fd int, rel string, hdr *tar.Header, isDir bool, how metaHow) error {
	if how&needChown != 0 {
		if err := unix.Fchown(fd, hdr.Uid, hdr.Gid); err != nil {
			return chownErr(hdr, err)
		}
	}
	// After chown, which clears setuid bits and file capabilities.
	if how&needChmod != 0 {
		if err := unix.Fchmod(fd, uint32(hdr.Mode)&0o7777); err != nil {
			return fmt.Errorf("chmod: %w", err)
		}
	}
	xs := paxXattrs(hdr.PAXRecords)
	if err := dropXattrs(fd, xs, isDir, how); err != nil {
		return err
	}
	for _, x := range xs {
		if !settable(x.name, hdr.Typeflag) {
			// As podman does, silently: the index leaves them out too.
			slog.Debug("unpack layer: ignoring xattr", "entry", hdr.Name, "xattr", x.name)
			continue
		}
		if err := unix.Fsetxattr(fd, x.name, []byte(x.value), 0); err != nil {
			return fmt.Errorf("set xattr %s: %w", x.name, err)
		}
	}
	ts := times(hdr)
	if isDir {
		u.dirTimes = append(u.dirTimes, dirTime{rel, ts})
		return nil
	}
	if err := futimens(fd, ts); err != nil {
		return fmt.Errorf("set times: %w", err)
	}
	return nil
}

// chownErr says why an entry could not get hdr's owner: as any user but
// root, because only root may give it.
func chownErr(hdr *tar.Header, err error) error {
	if errors.Is(err, unix.EPERM) && os.Geteuid() != 0 {
		return fmt.Errorf("owner %d:%d: %w", hdr.Uid, hdr.Gid, ErrOwnerNeedsRoot)
	}
	return fmt.Errorf("chown: %w", err)
}

// metaAt is metaFD for entries that cannot be opened: symlinks, devices, FIFOs.
func (u *unpacker) metaAt(pfd int, base string, hdr *tar.Header) error {
	if !u.owned(pfd, hdr) {
		if err := unix.Fchownat(pfd, base, hdr.Uid, hdr.Gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return chownErr(hdr, err)
		}
	}
	if hdr.Typeflag != tar.TypeSymlink {
		// Fchmodat follows symlinks, but base was just made by mknodat.
		if err := unix.Fchmodat(pfd, base, uint32(hdr.Mode)&0o7777, 0); err != nil {
			return fmt.Errorf("chmod: %w", err)
		}
	}
	xs := paxXattrs(hdr.PAXRecords)
	if in, ok := u.inheritOf(pfd); (!ok || in.acl) && hdr.Typeflag != tar.TypeSymlink && !hasXattr(xs, aclAccess) {
		// A device or FIFO takes its directory's default ACL too.
		p := fmt.Sprintf("/proc/self/fd/%d/%s", pfd, base)
		if err := unix.Lremovexattr(p, aclAccess); err != nil && !noXattr(err) {
			return fmt.Errorf("remove xattr %s: %w", aclAccess, err)
		}
	}
	if len(xs) > 0 {
		// The magic link names the parent only; base is not followed.
		p := fmt.Sprintf("/proc/self/fd/%d/%s", pfd, base)
		for _, x := range xs {
			if !settable(x.name, hdr.Typeflag) {
				continue
			}
			if err := unix.Lsetxattr(p, x.name, []byte(x.value), 0); err != nil {
				return fmt.Errorf("set xattr %s: %w", x.name, err)
			}
		}
	}
	if err := unix.UtimesNanoAt(pfd, base, times(hdr), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("set times: %w", err)
	}
	return nil
}

func times(hdr *tar.Header) []unix.Timespec {
	m := unix.Timespec{Sec: hdr.ModTime.Unix(), Nsec: int64(hdr.ModTime.Nanosecond())}
	a := m
	if !hdr.AccessTime.IsZero() {
		a = unix.Timespec{Sec: hdr.AccessTime.Unix(), Nsec: int64(hdr.AccessTime.Nanosecond())}
	}
	return []unix.Timespec{a, m}
}

func (u *unpacker) setTimes(rel string, ts []unix.Timespec) error {
	if rel == "" {
		return unix.UtimesNanoAt(u.root, ".", ts, 0)
	}
	dir, base := split(rel)
	pfd, err := u.dirFD(dir, false)
	if err == nil {
		err = unix.UtimesNanoAt(pfd, base, ts, unix.AT_SYMLINK_NOFOLLOW)
	}
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
		return nil // deleted by a later whiteout, or replaced with a file
	}
	return err
}

// dirTime is the times of the directory rel, or with ts nil, the mark
// that this layer replaced what it had made at rel.
type dirTime struct {
	rel string
	ts  []unix.Timespec
}

// setDirTimes sets the directories' times last: creating their content
// changed them. A directory this layer gave twice gets the times of its
// last entry, as docker's unpack gives it; one it then replaced with
// something else, none.
func (u *unpacker) setDirTimes() error {
	var done map[string]bool
	if u.redone {
		done = map[string]bool{}
	}
	for i := len(u.dirTimes) - 1; i >= 0; i-- {
		d := u.dirTimes[i]
		if done != nil {
			if done[d.rel] {
				continue
			}
			done[d.rel] = true
		}
		if d.ts == nil {
			continue
		}
		if err := u.setTimes(d.rel, d.ts); err != nil {
			return fmt.Errorf("unpack layer: entry %s: %w", quoteName(d.rel), err)
		}
	}
	return nil
}
