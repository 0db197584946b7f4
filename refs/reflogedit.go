package refs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/strata-sh/strata/internal/atomicfile"
)

// LogNames returns the names of every reflog, HEAD first, including the
// reflogs of deleted refs (they keep their commits until they expire).
func (s *Store) LogNames() ([]string, error) {
	var out []string
	base := filepath.Join(s.root, "logs")
	err := filepath.WalkDir(base, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if e.IsDir() || strings.HasSuffix(p, ".lock") || strings.HasPrefix(e.Name(), ".") {
			return nil
		}
		rel, _ := filepath.Rel(base, p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	return out, err
}

// LogName finds the reflog a user means by arg: HEAD, a full name, or a
// short one (below refs/, as tags/v1, first, as git; then branches, tags
// and remote-tracking refs), also when the ref itself was deleted and
// only its reflog is left.
func (s *Store) LogName(arg string) (string, error) {
	if arg == HEAD || arg == "@" {
		return s.CurrentLog(), nil
	}
	cands := []string{"refs/" + arg, Heads + arg, Tags + arg, Remotes + arg}
	if strings.HasPrefix(arg, "refs/") {
		// The full name first, then as a short one (branch refs/x).
		cands = append([]string{arg}, cands...)
	}
	for _, c := range cands {
		if checkPath(c) != nil {
			continue
		}
		// A file: refs/NAME may be a directory (heads).
		for _, f := range []string{s.file(c), s.logFile(c)} {
			if fi, err := os.Stat(f); err == nil && fi.Mode().IsRegular() {
				return c, nil
			}
		}
	}
	return "", fmt.Errorf("%s: %w", arg, ErrNotFound)
}

// RewriteLog replaces the reflog of name by what keep returns from its
// entries (both newest first), under the refs lock so that no move is
// logged meanwhile. A reflog left empty is removed. It returns how many
// entries went.
func (s *Store) RewriteLog(name string, keep func([]LogEntry) []LogEntry) (int, error) {
	if name != HEAD {
		if err := checkPath(name); err != nil {
			return 0, err
		}
	}
	l, err := s.lockRefs()
	if err != nil {
		return 0, err
	}
	defer l.Release()
	all, err := s.Log(name)
	if err != nil {
		return 0, err
	}
	kept := keep(all)
	if len(kept) == len(all) {
		return 0, nil
	}
	return len(all) - len(kept), s.writeLog(name, kept)
}

// writeLog replaces name's reflog by entries (newest first); none removes
// it. The caller holds the refs lock.
func (s *Store) writeLog(name string, kept []LogEntry) error {
	p := s.logFile(name)
	if len(kept) == 0 {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("reflog %s: %w", name, err)
		}
		pruneEmptyDirs(filepath.Join(s.root, "logs"), filepath.Dir(p))
		return nil
	}
	var b strings.Builder
	for i := len(kept) - 1; i >= 0; i-- {
		b.WriteString(formatLogLine(kept[i]))
	}
	if err := atomicfile.Write(filepath.Dir(p), p, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("reflog %s: %w", name, err)
	}
	return nil
}
