//go:build !strata_init

package exec

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// The init binary can run from a file installed once instead of a sealed
// memfd copy made for every run (the copy costs ~2.7 ms of CPU). The file
// is content-addressed, in a directory only root can write, and every run
// executes it through a private read-only bind mount of it (open_tree
// OPEN_TREE_CLONE + mount_setattr MOUNT_ATTR_RDONLY, as runc 1.2 does with
// its binary): a container that opens its init's /proc/<pid>/exe for
// writing gets EROFS, and the installed file is not reachable from the
// container otherwise. Any failure (not root, an old kernel, a directory or
// file that is not root's own) falls back to the memfd copy.

// initDir is where root installs init binaries, one per content digest.
// Tests point it elsewhere.
var initDir = "/run/strata/init"

var installed struct {
	once   sync.Once
	file   *os.File
	err    error
	digest string // hex sha256 of what self.init returns (SetInitDigest)
}

// SetInitDigest names the hex SHA-256 of the binary SetInitBinary's open
// returns. With it, a strata running as root installs that binary once under
// /run/strata/init and runs containers from a read-only bind mount of it
// instead of copying it for every run. Call it with SetInitBinary.
func SetInitDigest(sha256hex string) { installed.digest = sha256hex }

// initExe returns the file a container's init is executed from: the
// installed binary on a private read-only mount when that works, otherwise
// the sealed memfd copy. A container that holds CAP_SYS_ADMIN (sysAdmin,
// see holdsSysAdmin) always gets the memfd: mount operations on the init's
// own mount (clearing its read-only flag while strata keeps the detached
// mount alive) are then within its reach, while a sealed memfd stays
// sealed for anyone.
func initExe(sysAdmin bool) (*os.File, error) {
	if !sysAdmin {
		installed.once.Do(func() { installed.file, installed.err = roInit() })
		if installed.err == nil {
			return installed.file, nil
		}
	}
	return sealedSelf()
}

// holdsSysAdmin reports whether a container of spec, or the command Join
// runs with it, would hold CAP_SYS_ADMIN (true when its capabilities are
// invalid: Run refuses those anyway).
func holdsSysAdmin(spec *Spec) bool {
	if spec.Privileged || spec.PrivilegedExec {
		return true
	}
	caps, err := capSet(false, spec.CapAdd, spec.CapDrop)
	return err != nil || slices.Contains(caps, "CAP_SYS_ADMIN")
}

// roInit opens the installed init (installing it first if needed) as a
// detached read-only, nosuid, nodev bind mount of that one file.
func roInit() (*os.File, error) {
	d := installed.digest
	if self.init == nil || len(d) != 64 || strings.Trim(d, "0123456789abcdef") != "" {
		return nil, errors.New("no init binary digest")
	}
	if os.Geteuid() != 0 {
		return nil, errors.New("not root")
	}
	dir, err := openRootDir(initDir)
	if err != nil {
		return nil, err
	}
	defer unix.Close(dir)
	mnt, err := cloneInit(dir, d)
	if errors.Is(err, unix.ENOENT) {
		if err = install(dir, d); err == nil {
			mnt, err = cloneInit(dir, d)
		}
	}
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(mnt), "strata-init"), nil
}

// cloneInit returns a detached read-only bind mount of dir/name, which
// must be a regular file of root's that only root can write.
func cloneInit(dir int, name string) (int, error) {
	mnt, err := unix.OpenTree(dir, name, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_SYMLINK_NOFOLLOW)
	if err != nil {
		return -1, fmt.Errorf("open_tree %s: %w", name, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(mnt, &st); err != nil {
		unix.Close(mnt)
		return -1, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Uid != 0 || st.Mode&0o022 != 0 {
		unix.Close(mnt)
		return -1, fmt.Errorf("%s/%s: not a regular file only root can write", initDir, name)
	}
	// A directory mounted noexec says what its admin wants: keep to it
	// (the clone inherits the flag; exec would fail).
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(mnt, &sfs); err != nil || sfs.Flags&unix.ST_NOEXEC != 0 {
		unix.Close(mnt)
		return -1, fmt.Errorf("%s: on a noexec mount (or statfs: %v)", initDir, err)
	}
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV}
	if err := unix.MountSetattr(mnt, "", unix.AT_EMPTY_PATH, attr); err != nil {
		unix.Close(mnt)
		return -1, fmt.Errorf("mount_setattr: %w", err)
	}
	return mnt, nil
}

// install writes the init binary to dir/digest. It appears there whole or
// not at all (O_TMPFILE, then linkat), and only if its content has that
// digest. A concurrent install of the same binary may win: that is fine.
func install(dir int, digest string) error {
	fd, err := unix.Openat(dir, ".", unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, 0o555)
	if err != nil {
		return fmt.Errorf("install init: %w", err)
	}
	f := os.NewFile(uintptr(fd), "strata-init")
	defer f.Close()
	r, err := self.init()
	if err != nil {
		return fmt.Errorf("install init: %w", err)
	}
	if c, ok := r.(io.Closer); ok {
		defer c.Close()
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(f, h), r); err != nil {
		return fmt.Errorf("install init: %w", err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != digest {
		return fmt.Errorf("install init: content has digest %s, not %s", got, digest)
	}
	if err := unix.Fchmod(fd, 0o555); err != nil { // the umask may have taken bits
		return fmt.Errorf("install init: %w", err)
	}
	err = unix.Linkat(fd, "", dir, digest, unix.AT_EMPTY_PATH)
	if err == unix.EEXIST {
		return nil
	}
	if err != nil {
		return fmt.Errorf("install init: link: %w", err)
	}
	pruneInits(dir, digest, time.Now().Add(-staleInitAge))
	return nil
}

// staleInitAge: when an init is installed, the others installed before
// this long ago are removed, so that /run (memory) does not keep a 2-3 MB
// binary for every strata version ever run. Younger ones stay: two
// versions in use side by side would otherwise reinstall in turn.
const staleInitAge = time.Hour

// pruneInits removes the inits in dir other than keep installed before
// cutoff. A run started from one keeps it (its exec, or the mount clone
// of it); a run about to clone one finds it gone and installs it again.
func pruneInits(dir int, keep string, cutoff time.Time) {
	fd, err := unix.Openat(dir, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	d := os.NewFile(uintptr(fd), initDir)
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		slog.Debug("prune installed inits", "err", err)
	}
	for _, name := range names {
		if name == keep || len(name) != 64 || strings.Trim(name, "0123456789abcdef") != "" {
			continue
		}
		var st unix.Stat_t
		if unix.Fstatat(dir, name, &st, unix.AT_SYMLINK_NOFOLLOW) != nil ||
			st.Mode&unix.S_IFMT != unix.S_IFREG || !time.Unix(st.Mtim.Unix()).Before(cutoff) {
			continue
		}
		if err := unix.Unlinkat(dir, name, 0); err != nil {
			slog.Debug("prune installed init", "name", name, "err", err)
		}
	}
}

// openRootDir opens the absolute path p one component at a time, never
// following a symlink, creating what is missing (mode 0700). Each
// directory must be root's and writable by no one else, or sticky (as
// /tmp: another user may add entries but not replace root's): no other
// user can then swap what root finds under it.
func openRootDir(p string) (int, error) {
	if !strings.HasPrefix(p, "/") {
		return -1, fmt.Errorf("%s: not absolute", p)
	}
	fd, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	parts := strings.Split(strings.Trim(p, "/"), "/")
	for i, name := range parts {
		if name == "" || name == "." || name == ".." {
			unix.Close(fd)
			return -1, fmt.Errorf("%s: bad path", p)
		}
		next, err := unix.Openat(fd, name, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err == unix.ENOENT {
			if err = unix.Mkdirat(fd, name, 0o700); err == nil || err == unix.EEXIST {
				next, err = unix.Openat(fd, name, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			}
		}
		unix.Close(fd)
		if err != nil {
			return -1, fmt.Errorf("%s: %w", p, err)
		}
		fd = next
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			unix.Close(fd)
			return -1, err
		}
		last := i == len(parts)-1
		if st.Uid != 0 || st.Mode&0o022 != 0 && (last || st.Mode&unix.S_ISVTX == 0) {
			unix.Close(fd)
			return -1, fmt.Errorf("%s: %s is not root's alone (uid %d, mode %o)", p, name, st.Uid, st.Mode&0o7777)
		}
	}
	return fd, nil
}
