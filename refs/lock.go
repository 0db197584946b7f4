package refs

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/strata-sh/strata/internal/lockfile"
)

// ErrLocked is returned when another live process holds refs.lock for
// longer than RefsLockTimeout.
var ErrLocked = errors.New("locked by another strata process")

// syncFile flushes a lock file; a test counts the calls.
var syncFile = (*os.File).Sync

// lockFile is git's lock: name.lock created exclusively, written, then
// renamed over name (commit) or removed (release).
type lockFile struct {
	name string
	f    *os.File
	sync bool // flush the new value to disk before the rename
}

// acquire takes name.lock. Every caller holds refs.lock, so a name.lock
// already there was left by a writer that died mid-move (killed strata):
// it is removed, as git would need a person to do.
func (s *Store) acquire(name string) (*lockFile, error) {
	for try := 0; ; try++ {
		f, err := os.OpenFile(name+".lock", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			return &lockFile{name: name, f: f, sync: !s.NoSync}, nil
		}
		if !errors.Is(err, fs.ErrExist) || try > 0 {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if err := os.Remove(name + ".lock"); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: leftover lock: %w", name, err)
		}
	}
}

// commit writes data and renames the lock file over the target.
func (l *lockFile) commit(data []byte) error {
	if _, err := l.f.Write(data); err != nil {
		l.release()
		return err
	}
	if l.sync {
		if err := syncFile(l.f); err != nil {
			l.release()
			return err
		}
	}
	if err := l.f.Close(); err != nil {
		os.Remove(l.f.Name())
		return err
	}
	if err := os.Rename(l.f.Name(), l.name); err != nil {
		os.Remove(l.f.Name())
		return err
	}
	return nil
}

func (l *lockFile) release() {
	l.f.Close()
	os.Remove(l.f.Name())
}

// RefsLockTimeout is how long a writer waits for one live holder of
// refs.lock. It is long because a live holder is making progress: on a
// loaded machine one fsync was seen to take 14 s.
var RefsLockTimeout = 30 * time.Second

// RefsLockFile is the repository-wide lock every ref move holds, from
// reading the old value to rewriting index.json (see docs/format.md).
const RefsLockFile = "refs.lock"

// repoLock is refs.lock, held under strata's one lock discipline
// (internal/lockfile).
type repoLock = lockfile.Lock

func (s *Store) lockRefs() (*repoLock, error) {
	p := filepath.Join(s.root, RefsLockFile)
	l, err := lockfile.Wait(p, RefsLockTimeout)
	if errors.Is(err, lockfile.ErrHeld) {
		return nil, fmt.Errorf("refs: %w (held by a live process, see %s)", ErrLocked, p)
	}
	if err == nil && l.TookOver {
		// Its holder died holding it, maybe between moving a ref and
		// rewriting index.json: finish that first, so that index.json
		// equals the refs again before anyone reads them under the lock.
		slog.Debug("refs: took over refs.lock from a dead holder; rewriting index.json")
		if uerr := s.updated(); uerr != nil {
			l.Release()
			return nil, fmt.Errorf("refs: finish an interrupted ref move: %w", uerr)
		}
	}
	return l, err
}
