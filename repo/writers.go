package repo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// ErrWritersActive: gc --prune=now found a command writing to the
// repository, whose staged files and not yet referenced blobs it would
// remove.
var ErrWritersActive = errors.New("another strata command is writing to the repository")

// The writers lock (.strata/writers.lock) is flocked shared by each
// command that stages files or writes blobs, for as long as it runs, and
// exclusively by gc while it removes what nothing references yet: blobs
// and .strata/tmp are only safe to prune when no writer is between
// staging them and moving a ref to them. The file itself is never
// removed; the kernel drops a flock when its holder dies, however it dies.
const writersLock = "writers.lock"

// openWritersLock opens the lock file read-only: a flock needs no more,
// so a user may hold it on a file root made.
func (r *Repo) openWritersLock() (*os.File, error) {
	return os.OpenFile(filepath.Join(r.Root, writersLock), os.O_RDONLY|os.O_CREATE|syscall.O_CLOEXEC, 0o644)
}

// HoldWrites marks this process as a writer until ReleaseWrites or its
// exit, waiting for a gc that is pruning to finish first. Calling it again
// does nothing.
func (r *Repo) HoldWrites() error {
	if r.writers != nil {
		return nil
	}
	f, err := r.openWritersLock()
	if err != nil {
		return fmt.Errorf("writers lock: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_SH)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return fmt.Errorf("writers lock: %w", err)
	}
	r.writers = f // held open: the flock lasts as long as the file
	return nil
}

// ReleaseWrites ends what HoldWrites began.
func (r *Repo) ReleaseWrites() {
	if r.writers != nil {
		r.writers.Close()
		r.writers = nil
	}
}

// WithWrites runs fn as a writer: under the writers lock, taken for fn
// alone unless r holds it already. Commands that write nothing else call
// it around what stages files (a snapshot built to remount a work tree
// after a reboot), so that they hold no lock in the common case.
func (r *Repo) WithWrites(fn func() error) error {
	if r.writers != nil {
		return fn()
	}
	if err := r.HoldWrites(); err != nil {
		return err
	}
	defer r.ReleaseWrites()
	return fn()
}

// ExcludeWriters takes the writers lock exclusively, if no writer holds
// it: ok false means one does.
func (r *Repo) ExcludeWriters() (release func(), ok bool, err error) {
	f, err := r.openWritersLock()
	if err != nil {
		return nil, false, fmt.Errorf("writers lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("writers lock: %w", err)
	}
	return func() { f.Close() }, true, nil
}
