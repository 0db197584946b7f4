//go:build !strata_init

package exec

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// freezeLockDir holds a lock file per frozen container, flocked by the
// process that froze it for as long as it stays frozen. The kernel drops
// the flock when that process dies, however it dies, so a lock that can
// be taken next to a frozen cgroup means a freezer that died before its
// thaw (ThawOrphans). Root's is freezeLockDir; a rootless user's (a
// container with limits has a delegated cgroup) is under
// $XDG_RUNTIME_DIR, and without one there is no lock.
const freezeLockDir = "/run/strata/freeze"

func freezeLocks() string {
	if os.Geteuid() == 0 {
		return freezeLockDir
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "strata", "freeze")
	}
	return ""
}

// lockFreeze takes container id's freeze lock, waiting while another
// process holds it: freezes of one container follow each other instead of
// one's thaw ending another's freeze. It returns nil where there is no
// place for locks.
func lockFreeze(id string) (*os.File, error) {
	dir := freezeLocks()
	if dir == "" {
		return nil, nil
	}
	path := filepath.Join(dir, id+".lock")
	for {
		f, err := lockFile(path)
		if err != nil {
			return nil, err
		}
		// The holder before us removes the file as it unlocks: a lock on
		// a file no longer at path guards nothing.
		if samePath(f, path) {
			return f, nil
		}
		f.Close()
	}
}

// unlockFreeze removes the lock file, then drops the lock.
func unlockFreeze(f *os.File) {
	if f != nil {
		os.Remove(f.Name())
		f.Close()
	}
}

// samePath reports whether the open file f is still the file at path.
func samePath(f *os.File, path string) bool {
	var a, b unix.Stat_t
	if unix.Fstat(int(f.Fd()), &a) != nil || unix.Stat(path, &b) != nil {
		return false
	}
	return a.Dev == b.Dev && a.Ino == b.Ino
}

// ThawOrphans thaws the containers whose freezer died while they were
// frozen (a commit killed mid-read) and returns their ids. Containers
// frozen by a live process, or by anything other than Freeze, are left
// alone.
func ThawOrphans() []string {
	dir := freezeLocks()
	if dir == "" {
		return nil
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var thawed []string
	for _, e := range ents {
		id, ok := strings.CutSuffix(e.Name(), ".lock")
		if !ok || checkID(id) != nil {
			continue
		}
		if err := thawOrphan(id, filepath.Join(dir, e.Name())); err != nil {
			if !errors.Is(err, unix.EWOULDBLOCK) && err != errStillPaused {
				slog.Warn("thaw a container left frozen", "id", id, "err", err)
			}
			continue
		}
		thawed = append(thawed, id)
	}
	return thawed
}

// errStillPaused is thawOrphan's for a container paused before its
// freezer froze it: it stays paused.
var errStillPaused = errors.New("paused")

// thawOrphan thaws container id if nobody holds the lock at path. It
// fails with EWOULDBLOCK while a live freezer holds it.
func thawOrphan(id, path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		return err
	}
	if !samePath(f, path) {
		return unix.EWOULDBLOCK // its freezer thawed and let go meanwhile
	}
	defer os.Remove(path)
	dir, v2 := freezerDir(id)
	if dir == "" {
		return nil // the container is gone: only the file was left
	}
	if mark, _ := io.ReadAll(f); string(mark) == pausedMark {
		return errStillPaused
	}
	return writeFreezer(dir, v2, false)
}
