package refs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/atomicfile"
)

// Rename moves ref old to new, keeping its reflog, under one hold of the
// refs lock. An error wrapping ErrMoved means new exists (and old may too).
func (s *Store) Rename(oldName, newName, msg string) error {
	return s.locked(func() error {
		d, err := s.Read(oldName)
		if err != nil {
			return err
		}
		log, logErr := os.ReadFile(s.logFile(oldName))
		if strings.HasPrefix(oldName, newName+"/") || strings.HasPrefix(newName, oldName+"/") {
			return s.renameOverItself(oldName, newName, d, log, logErr == nil, msg)
		}
		if err := s.update(newName, d, "", msg, false); err != nil {
			return err
		}
		if logErr == nil {
			if err := s.carryLog(newName, d, log, msg); err != nil {
				return fmt.Errorf("%w, but its reflog was not carried over: %w", ErrMoved, err)
			}
		}
		if err := s.delete(oldName, d, msg); err != nil {
			return fmt.Errorf("%w, but %w", ErrMoved, err)
		}
		os.Remove(s.logFile(oldName))
		return nil
	})
}

// renameOverItself renames a ref to a name its own path stands in the way
// of (a/b/c to a/b, a to a/b), as git does: the old ref and its reflog
// go first, then the new one is made; if it cannot be, the old comes
// back. (Killed in between, the branch is gone; its commits stay until
// gc, as with git.)
func (s *Store) renameOverItself(oldName, newName string, d digest.Digest, log []byte, hasLog bool, msg string) error {
	if err := s.delete(oldName, d, msg); err != nil {
		return err
	}
	os.Remove(s.logFile(oldName))
	pruneEmptyDirs(s.logFile(namespace(oldName)), filepath.Dir(s.logFile(oldName)))
	err := s.update(newName, d, "", msg, false)
	if err != nil {
		if berr := s.update(oldName, d, "", msg, false); berr != nil {
			return fmt.Errorf("%w; and putting %s back: %w (it was at %s)", err, oldName, berr, d)
		}
		if hasLog { // as it was
			atomicfile.Write(filepath.Dir(s.logFile(oldName)), s.logFile(oldName), log, 0o644)
		}
		return err
	}
	if hasLog {
		if err := s.carryLog(newName, d, log, msg); err != nil {
			return fmt.Errorf("%w, but its reflog was not carried over: %w", ErrMoved, err)
		}
	}
	return nil
}

// carryLog writes a renamed ref's reflog, log, under its new name, and the
// rename's entry after it.
func (s *Store) carryLog(name string, d digest.Digest, log []byte, msg string) error {
	if err := atomicfile.Write(filepath.Dir(s.logFile(name)), s.logFile(name), log, 0o644); err != nil {
		return err
	}
	_, err := s.appendLog(name, d, d, msg)
	return err
}

// Copy makes ref new at old's commit, with a copy of old's reflog and
// msg's entry after it, as git's branch -c, under one hold of the refs
// lock. new must not exist. An error wrapping ErrMoved means new exists,
// but without old's reflog.
func (s *Store) Copy(oldName, newName, msg string) error {
	return s.locked(func() error {
		d, err := s.Read(oldName)
		if err != nil {
			return err
		}
		log, logErr := os.ReadFile(s.logFile(oldName))
		if err := s.update(newName, d, "", msg, false); err != nil {
			return err
		}
		if logErr == nil {
			if err := s.carryLog(newName, d, log, msg); err != nil {
				return fmt.Errorf("%w, but the reflog was not copied: %w", ErrMoved, err)
			}
		}
		return nil
	})
}
