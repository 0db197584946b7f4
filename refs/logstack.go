package refs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/opencontainers/go-digest"
)

// ErrNoEntry: a reflog has no entry of the number asked for.
var ErrNoEntry = errors.New("no such entry")

// DropEntry removes entry n (0: the newest) of ref name's reflog and
// points name at what the newest entry left sets, without logging that
// move: the reflog is a stack whose top the ref names, as git's stash
// keeps refs/stash. The last entry gone, the ref goes too. want, if
// set, is the commit entry n must name: the stack may have moved since
// the caller read it (ErrStale). It returns the entry removed.
func (s *Store) DropEntry(name string, n int, want digest.Digest) (LogEntry, error) {
	if err := checkPath(name); err != nil {
		return LogEntry{}, err
	}
	var dropped LogEntry
	err := s.locked(func() error {
		all, err := s.Log(name)
		if err != nil {
			return err
		}
		if n < 0 || n >= len(all) {
			return fmt.Errorf("%s@{%d}: %w (%d entries)", ShortName(name), n, ErrNoEntry, len(all))
		}
		dropped = all[n]
		if want != "" && dropped.New != want {
			return fmt.Errorf("%s@{%d}: %w: it names %s now", ShortName(name), n, ErrStale, dropped.New)
		}
		kept := slices.Delete(slices.Clone(all), n, n+1)
		// The reflog first: killed in between, the ref still names a
		// commit, which the next drop or push puts right.
		if err := s.writeLog(name, kept); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		l, err := s.acquire(s.file(name))
		if err != nil {
			return err
		}
		if len(kept) == 0 || kept[0].New == "" {
			l.release()
			if err := os.Remove(s.file(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			pruneEmptyDirs(filepath.Join(s.root, "refs"), filepath.Dir(s.file(name)))
			return nil
		}
		return l.commit([]byte(kept[0].New.String() + "\n"))
	})
	return dropped, err
}
