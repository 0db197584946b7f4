// Package lockfile is strata's one lock discipline for repository-wide
// locks (refs.lock, gc.lock): a git-style lock file created with O_EXCL
// that its holder also flock(2)s. The file says "taken" to any reader; the
// flock, which the kernel drops when its holder dies however it dies, says
// "its holder is alive". A lock file nobody has flocked is taken over,
// never by age and never from a live holder, however slow.
package lockfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"time"
)

// Lock is a held lock file.
type Lock struct {
	path string
	f    *os.File
	// TookOver says the file was there, left by a holder that died:
	// whatever it guarded may be half done.
	TookOver bool
}

// Try takes the lock at path. It returns nil, nil when a live process
// holds it.
func Try(path string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL|syscall.O_CLOEXEC, 0o644)
	tookOver := errors.Is(err, fs.ErrExist)
	if tookOver {
		// Someone made it: take it over if nobody holds its flock.
		// Not through a symbolic link, and only a regular file: a link
		// or a device planted there (in a layout a container holds)
		// would have what it leads to truncated and written.
		f, err = os.OpenFile(path, os.O_RDWR|syscall.O_CLOEXEC|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil // released meanwhile
		}
		if errors.Is(err, syscall.ELOOP) {
			return nil, &fs.PathError{Op: "lock", Path: path, Err: errors.New("a symbolic link, not followed")}
		}
		if err == nil {
			if fi, serr := f.Stat(); serr != nil || !fi.Mode().IsRegular() {
				f.Close()
				return nil, &fs.PathError{Op: "lock", Path: path, Err: errors.New("not a regular file")}
			}
		}
	}
	if err != nil {
		return nil, err
	}
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		f.Close() // a live holder, or one taking over the file we made
		return nil, nil
	}
	// The flock is ours; it guards the lock only if our file is still the
	// one at path (a holder removes path before it drops the flock).
	mine, err1 := f.Stat()
	there, err2 := os.Lstat(path)
	if err1 != nil || err2 != nil || !os.SameFile(mine, there) {
		f.Close()
		return nil, nil
	}
	if err := f.Truncate(0); err == nil {
		// The pid is for people (the flock decides); the time tells
		// waiters that the lock changed hands.
		fmt.Fprintf(f, "%d %d\n", os.Getpid(), time.Now().UnixNano())
	}
	return &Lock{path: path, f: f, TookOver: tookOver}, nil
}

// Holder returns what the current holder wrote (its pid and the time it
// took the lock), or "" when there is none: waiters use it to tell that
// the lock changed hands.
func Holder(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(b)
}

// Release removes the file while still holding the flock, so that a
// waiter that opened it sees it gone and starts over.
func (l *Lock) Release() {
	os.Remove(l.path)
	l.f.Close()
}

// ErrHeld is returned by Wait when a live process kept the lock longer
// than the timeout.
var ErrHeld = errors.New("held by a live process")

// Wait takes the lock at path, waiting while a live process holds it.
// The timeout bounds how long one holder keeps the lock, not the whole
// wait: while the lock changes hands others make progress (many writers
// on a loaded machine), so the clock starts again each time it does.
func Wait(path string, timeout time.Duration) (*Lock, error) {
	deadline := time.Now().Add(timeout)
	wait := 100 * time.Microsecond
	var holder string
	for {
		l, err := Try(path)
		if err != nil || l != nil {
			return l, err
		}
		// Each holder writes its own token: inode numbers are reused.
		if h := Holder(path); h != "" && h != holder {
			holder = h
			deadline = time.Now().Add(timeout)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s: %w", path, ErrHeld)
		}
		time.Sleep(wait)
		if wait < 20*time.Millisecond {
			wait *= 2
		}
	}
}
