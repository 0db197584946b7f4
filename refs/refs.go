package refs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/atomicfile"
)

// Ref name prefixes.
const (
	Heads   = "refs/heads/"
	Tags    = "refs/tags/"
	Remotes = "refs/remotes/"
	HEAD    = "HEAD"
)

// Sentinel errors callers branch on.
var (
	ErrNotFound = errors.New("no such ref")
	ErrExists   = errors.New("already exists")
	ErrStale    = errors.New("ref moved since it was read")
	ErrBadName  = errors.New("invalid ref name")
)

// Ref is a name and the commit it points at.
type Ref struct {
	Name   string // full name, refs/heads/main
	Target digest.Digest
}

// Short is the name without its refs/heads/, refs/tags/ or refs/remotes/ prefix.
func (r Ref) Short() string { return ShortName(r.Name) }

// ShortName strips the well-known prefix of a full ref name.
func ShortName(name string) string {
	for _, p := range []string{Heads, Tags, Remotes} {
		if strings.HasPrefix(name, p) {
			return name[len(p):]
		}
	}
	return name
}

// Store reads and moves refs in a repository directory.
type Store struct {
	root string
	// OnUpdate is called with the store locked after refs moved; the
	// repository uses it to rewrite the OCI index.
	OnUpdate func() error
	// Who returns the identity recorded in reflog entries; it is asked
	// only when a ref moves, so read-only commands never compute it.
	Who func() string
}

// Open returns the ref store of the repository at root (a .strata dir).
func Open(root string) *Store {
	return &Store{root: root, Who: func() string { return "strata" }}
}

func (s *Store) file(name string) string { return filepath.Join(s.root, filepath.FromSlash(name)) }

// Read returns the digest ref name points at.
func (s *Store) Read(name string) (digest.Digest, error) {
	if err := checkPath(name); err != nil {
		return "", err
	}
	b, err := os.ReadFile(s.file(name))
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%s: %w", name, ErrNotFound)
	}
	if err != nil {
		return "", err
	}
	d := digest.Digest(strings.TrimSpace(string(b)))
	if err := d.Validate(); err != nil {
		return "", fmt.Errorf("ref %s: bad content: %w", name, err)
	}
	return d, nil
}

// Exists reports whether ref name exists.
func (s *Store) Exists(name string) bool {
	if checkPath(name) != nil {
		return false
	}
	_, err := os.Stat(s.file(name))
	return err == nil
}

// Update moves ref name to new if it still points at old. old == "" means
// the ref must not exist yet; old == Any skips the check.
func (s *Store) Update(name string, new, old digest.Digest, msg string) error {
	// Names are checked when they are made; a ref made before a rule
	// existed can still move, and be renamed away.
	if err := CheckName(name); err != nil && (checkPath(name) != nil || !s.Exists(name)) {
		return err
	}
	if err := new.Validate(); err != nil {
		return fmt.Errorf("update %s: %w", name, err)
	}
	if err := os.MkdirAll(filepath.Dir(s.file(name)), 0o755); err != nil {
		return err
	}
	l, err := acquire(s.file(name))
	if err != nil {
		return err
	}
	cur, err := s.Read(name)
	if err != nil && !errors.Is(err, ErrNotFound) {
		l.release()
		return err
	}
	if err := checkOld(name, cur, old); err != nil {
		l.release()
		return err
	}
	if err := l.commit([]byte(new.String() + "\n")); err != nil {
		return fmt.Errorf("update %s: %w", name, err)
	}
	s.appendLog(name, cur, new, msg)
	return s.updated()
}

// Any is an "old" value that accepts whatever a ref points at.
const Any = digest.Digest("any")

func checkOld(name string, cur, old digest.Digest) error {
	switch {
	case old == Any:
		return nil
	case old == "" && cur != "":
		return fmt.Errorf("%s: %w", ShortName(name), ErrExists)
	case old != "" && cur != old:
		return fmt.Errorf("%s: %w", ShortName(name), ErrStale)
	}
	return nil
}

// Delete removes ref name if it still points at old (or old is Any).
func (s *Store) Delete(name string, old digest.Digest, msg string) error {
	if err := checkPath(name); err != nil {
		return err
	}
	l, err := acquire(s.file(name))
	if err != nil {
		return err
	}
	defer l.release()
	cur, err := s.Read(name)
	if err != nil {
		return err
	}
	if err := checkOld(name, cur, old); err != nil {
		return err
	}
	if err := os.Remove(s.file(name)); err != nil {
		return err
	}
	s.appendLog(name, cur, "", msg)
	pruneEmptyDirs(s.root, filepath.Dir(s.file(name)))
	return s.updated()
}

func pruneEmptyDirs(root, dir string) {
	refsDir := filepath.Join(root, "refs")
	for strings.HasPrefix(dir, refsDir+string(filepath.Separator)) {
		if os.Remove(dir) != nil {
			return
		}
		dir = filepath.Dir(dir)
	}
}

func (s *Store) updated() error {
	if s.OnUpdate == nil {
		return nil
	}
	return s.OnUpdate()
}

// List returns the refs whose full names start with prefix, sorted by name.
func (s *Store) List(prefix string) ([]Ref, error) {
	var out []Ref
	base := filepath.Join(s.root, "refs")
	err := filepath.WalkDir(base, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if e.IsDir() || strings.HasSuffix(p, ".lock") {
			return nil
		}
		rel, _ := filepath.Rel(s.root, p)
		name := filepath.ToSlash(rel)
		if !strings.HasPrefix(name, prefix) {
			return nil
		}
		d, err := s.Read(name)
		if err != nil {
			return err
		}
		out = append(out, Ref{Name: name, Target: d})
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// Rename moves ref old to new, keeping its reflog.
func (s *Store) Rename(oldName, newName, msg string) error {
	d, err := s.Read(oldName)
	if err != nil {
		return err
	}
	if err := s.Update(newName, d, "", msg); err != nil {
		return err
	}
	if b, err := os.ReadFile(s.logFile(oldName)); err == nil {
		_ = atomicfile.Write(filepath.Dir(s.logFile(newName)), s.logFile(newName), b, 0o644)
		s.appendLog(newName, d, d, msg)
	}
	if err := s.Delete(oldName, d, msg); err != nil {
		return err
	}
	os.Remove(s.logFile(oldName))
	return nil
}
