// Package stagedir makes staging directories under a repository's tmp
// that say whether their owner is alive: the owner holds an flock on
// the directory for as long as it uses it, and the kernel drops the lock
// when the process dies, however it dies (SIGKILL included). Sweep
// unmounts and removes the directories whose lock is free: what killed
// builds left, mounts and all.
package stagedir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/strata-sh/strata/internal/kmount"
	"golang.org/x/sys/unix"
)

// Build is the prefix of strata build's staging directories.
const Build = "build-"

// Make makes a directory (0700) named prefix+random under tmp, already
// locked when it gets that name: it is made under another name, locked,
// then renamed, so Sweep never sees it unlocked. unlock drops the lock;
// call it once the directory is gone. Nothing may be mounted on the
// directory itself (a mount would hide the locked inode): mount below it.
func Make(tmp, prefix string) (dir string, unlock func(), err error) {
	staged, err := os.MkdirTemp(tmp, "new"+prefix)
	if err != nil {
		return "", nil, err
	}
	fd, err := unix.Open(staged, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err == nil {
		if err = unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
			unix.Close(fd)
		}
	}
	if err != nil {
		os.Remove(staged)
		return "", nil, fmt.Errorf("lock %s: %w", staged, err)
	}
	dir = filepath.Join(tmp, strings.TrimPrefix(filepath.Base(staged), "new"))
	if err := os.Rename(staged, dir); err != nil {
		unix.Close(fd)
		os.Remove(staged)
		return "", nil, err
	}
	return dir, func() { unix.Close(fd) }, nil
}

// Run is the prefix of the throwaway work trees of run --rev and
// bisect run, under a repository's tmp.
const Run = "run-"

// Held reports whether a live process holds dir's lock. A directory Make
// never made (or one gone) is not held.
func Held(dir string) bool {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	return unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB) != nil
}

// Sweep unmounts and removes the directories prefix* of tmp whose lock
// no live process holds, and returns their names; with dryRun it only
// names them.
func Sweep(tmp, prefix string, dryRun bool) ([]string, error) {
	ents, err := os.ReadDir(tmp)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var swept []string
	for _, e := range ents {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		dir := filepath.Join(tmp, e.Name())
		fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
		if err != nil {
			continue
		}
		if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
			unix.Close(fd) // its owner is alive
			continue
		}
		if !dryRun {
			err = remove(dir)
		}
		unix.Close(fd)
		if err != nil {
			return swept, fmt.Errorf("%s: %w", e.Name(), err)
		}
		swept = append(swept, e.Name())
	}
	return swept, nil
}

// remove unmounts everything at or below dir, deepest first (a bind in
// a tree before the tree), then removes dir: never through a mount,
// which would delete what the mount shows. The kernel is asked about
// the mounts below dir alone where it can be (kmount.Below).
func remove(dir string) error {
	points, err := kmount.Below(dir)
	if err != nil {
		return err
	}
	sort.Slice(points, func(i, j int) bool { return len(points[i]) > len(points[j]) })
	for _, p := range points {
		err := unix.Unmount(p, 0)
		if errors.Is(err, unix.EBUSY) {
			err = unix.Unmount(p, unix.MNT_DETACH)
		}
		if err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("unmount %s: %w", p, err)
		}
	}
	if points, err := kmount.Below(dir); err != nil || len(points) > 0 {
		return fmt.Errorf("%s is still mounted", dir)
	}
	return os.RemoveAll(dir)
}
