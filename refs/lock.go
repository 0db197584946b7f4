package refs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// ErrLocked is returned when another process holds a ref's lock for longer
// than LockTimeout.
var ErrLocked = errors.New("locked by another strata process")

// LockTimeout is how long a writer waits for another to release a lock.
var LockTimeout = 5 * time.Second

// lockFile is git's lock: name.lock created exclusively, written, then
// renamed over name (commit) or removed (release).
type lockFile struct {
	name string
	f    *os.File
}

func acquire(name string) (*lockFile, error) {
	deadline := time.Now().Add(LockTimeout)
	wait := time.Millisecond
	for {
		f, err := os.OpenFile(name+".lock", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			return &lockFile{name: name, f: f}, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s: %w (if no strata is running, remove %s.lock)", name, ErrLocked, name)
		}
		time.Sleep(wait)
		if wait < 50*time.Millisecond {
			wait *= 2
		}
	}
}

// commit writes data and renames the lock file over the target.
func (l *lockFile) commit(data []byte) error {
	if _, err := l.f.Write(data); err != nil {
		l.release()
		return err
	}
	if err := l.f.Sync(); err != nil {
		l.release()
		return err
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
