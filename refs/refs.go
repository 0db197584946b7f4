package refs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/regfile"
)

// Ref name prefixes.
const (
	Heads   = "refs/heads/"
	Tags    = "refs/tags/"
	Remotes = "refs/remotes/"
	HEAD    = "HEAD"
	// Stash is the ref whose reflog is git's stash: stash@{N} is its
	// N-th entry.
	Stash = "refs/stash"
)

// Sentinel errors callers branch on.
var (
	ErrNotFound = errors.New("no such ref")
	ErrExists   = errors.New("already exists")
	ErrStale    = errors.New("ref moved since it was read")
	ErrBadName  = errors.New("invalid ref name")
	// ErrBroken is wrapped by Read when a ref's file holds no commit id
	// (damaged, or truncated to nothing).
	ErrBroken = errors.New("bad content")
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
	// OnUpdate is called after refs moved, with the refs lock still
	// held; the repository uses it to rewrite the OCI index.
	OnUpdate func() error
	// Who returns the identity recorded in reflog entries; it is asked
	// only when a ref moves, so read-only commands never compute it.
	Who func() string
	// Linked, when set, is the linked work tree a command runs in: HEAD
	// and @ in revisions, and HEAD's reflog, are its own (see current.go).
	Linked *Linked
	// UpstreamOf finds where the upstream of a branch (short name, an
	// existing branch) is kept, for BRANCH@{upstream} (with push, for
	// BRANCH@{push}), or says why it has none: the repository maps it
	// through the remote's fetch refspecs (repo.Repo.Upstream). nil: no
	// branch has an upstream.
	UpstreamOf func(branch string, push bool) (Tracked, error)
	// ParseDate, when set, reads the date of REF@{DATE} (main@{2.days.ago},
	// main@{2024-05-01}); nil: only REF@{N} is read.
	ParseDate func(string) (time.Time, error)
	// OnBroken, when set, is told of each broken ref that List leaves
	// out, once (a command warns on stderr).
	OnBroken func(BrokenRef)
	// NoSync leaves a moved ref's file unflushed (git's default
	// core.fsync): a killed process still leaves the old or the new
	// value, a power cut may leave the old one.
	NoSync bool

	warnedMu sync.Mutex
	warned   map[string]bool
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
	b, err := regfile.ReadFile(s.file(name))
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%s: %w", name, ErrNotFound)
	}
	if errors.Is(err, regfile.ErrNotRegular) {
		return "", fmt.Errorf("ref %s: %w: %w", name, ErrBroken, regfile.ErrNotRegular)
	}
	if err != nil {
		return "", err
	}
	d := digest.Digest(strings.TrimSpace(string(b)))
	if d == "" {
		return "", fmt.Errorf("ref %s: %w: empty", name, ErrBroken)
	}
	if err := d.Validate(); err != nil {
		return "", fmt.Errorf("ref %s: %w: %w", name, ErrBroken, err)
	}
	return d, nil
}

// Exists reports whether ref name exists. A directory is none: it holds
// refs named below it (refs/heads/a for branch a/b).
func (s *Store) Exists(name string) bool {
	if checkPath(name) != nil {
		return false
	}
	fi, err := os.Stat(s.file(name))
	return err == nil && !fi.IsDir()
}

// Update moves ref name to new if it still points at old. old == "" means
// the ref must not exist yet; old == Any skips the check.
//
// The error says whether the ref moved: an error wrapping ErrMoved means
// it did (with its reflog entry) and only rewriting index.json failed;
// any other error means the ref, its reflog and index.json are as they
// were. Callers that keep state until a ref moves must test
// errors.Is(err, ErrMoved), not err != nil.
func (s *Store) Update(name string, new, old digest.Digest, msg string) error {
	return s.locked(func() error { return s.update(name, new, old, msg, false) })
}

// update is Update with the refs lock held. alsoHEAD logs the move in
// HEAD's reflog as well (HEAD names this branch).
func (s *Store) update(name string, new, old digest.Digest, msg string, alsoHEAD bool) error {
	// Names are checked when they are made; a ref made before a rule
	// existed can still move, and be renamed away.
	if err := CheckName(name); err != nil && (checkPath(name) != nil || !s.Exists(name)) {
		return err
	}
	if err := new.Validate(); err != nil {
		return fmt.Errorf("update %s: %w", name, err)
	}
	if err := s.nameConflict(name); err != nil {
		return err
	}
	if err := s.mkdirs(filepath.Dir(s.file(name))); err != nil {
		return err
	}
	l, err := s.acquire(s.file(name))
	if err != nil {
		return err
	}
	cur, err := s.Read(name)
	if err == nil || errors.Is(err, ErrNotFound) || old == Any && errors.Is(err, ErrBroken) {
		// Any (tag -f, branch -f) overwrites a broken ref as well.
		err = checkOld(name, cur, old)
	}
	var undo []func()
	if err == nil {
		err = s.logMove(&undo, name, cur, new, msg)
	}
	if err == nil && alsoHEAD {
		err = s.logMove(&undo, HEAD, cur, new, msg)
	}
	if err != nil {
		l.release()
		undoAll(undo)
		return err
	}
	if err := l.commit([]byte(new.String() + "\n")); err != nil {
		undoAll(undo)
		return fmt.Errorf("update %s: %w", name, err)
	}
	return nil
}

// nameConflict says, as git does, which ref stands in the way of making
// ref name: one named by a leading part of it (a/b for a/b/c), or one
// below it (a/b/c for a/b). One would be a file where the other needs a
// directory. An empty directory left in the way goes (the refs lock is
// held).
func (s *Store) nameConflict(name string) error {
	parts := strings.Split(name, "/")
	for i := 2; i < len(parts); i++ { // refs/heads itself is no ref
		prefix := strings.Join(parts[:i], "/")
		// (A symbolic link is mkdirs' to refuse.)
		if fi, err := os.Lstat(s.file(prefix)); err == nil && fi.Mode().IsRegular() {
			return fmt.Errorf("'%s' exists; cannot create '%s'", prefix, name)
		}
	}
	fi, err := os.Lstat(s.file(name))
	if err != nil || !fi.IsDir() || os.Remove(s.file(name)) == nil {
		return nil
	}
	below, broken, _ := s.ListAll(name + "/")
	switch {
	case len(below) > 0:
		return fmt.Errorf("'%s' exists; cannot create '%s'", below[0].Name, name)
	case len(broken) > 0:
		return fmt.Errorf("'%s' exists; cannot create '%s'", broken[0].Name, name)
	}
	return fmt.Errorf("cannot create '%s': %s is a directory", name, s.file(name))
}

func (s *Store) logMove(undo *[]func(), name string, old, new digest.Digest, msg string) error {
	u, err := s.appendLog(name, old, new, msg)
	if err == nil {
		*undo = append(*undo, u)
	}
	return err
}

func undoAll(undo []func()) {
	for _, u := range undo {
		u()
	}
}

// ErrMoved is wrapped by errors of Update, UpdateHead, Delete and Rename
// when the refs did change and only a later step (rewriting index.json)
// failed. Errors that do not wrap it mean nothing moved.
var ErrMoved = errors.New("the ref moved")

// locked runs move, which changes refs, under the refs lock, then rewrites
// index.json (OnUpdate) before the lock is released, so that index.json
// always ends equal to the refs.
func (s *Store) locked(move func() error) error {
	l, err := s.lockRefs()
	if err != nil {
		return err
	}
	defer l.Release()
	if err := move(); err != nil {
		return err
	}
	if err := s.updated(); err != nil {
		return fmt.Errorf("%w, but %w (the next ref move or 'strata fsck --repair' rewrites it)", ErrMoved, err)
	}
	return nil
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

// Delete removes ref name if it still points at old (or old is Any). Its
// reflog stays, with a deletion entry, until it expires. Errors follow
// Update's contract (ErrMoved).
func (s *Store) Delete(name string, old digest.Digest, msg string) error {
	return s.locked(func() error { return s.delete(name, old, msg) })
}

// DeleteIf is Delete after allowed returns nil, both under the refs lock:
// a check that no work tree has the branch checked out cannot go stale
// before the branch goes, since a work tree's HEAD moves to a branch only
// under this lock too (SetHeadBranchAt, Locked).
func (s *Store) DeleteIf(name string, old digest.Digest, msg string, allowed func() error) error {
	return s.locked(func() error {
		if err := allowed(); err != nil {
			return err
		}
		return s.delete(name, old, msg)
	})
}

func (s *Store) delete(name string, old digest.Digest, msg string) error {
	if err := checkPath(name); err != nil {
		return err
	}
	l, err := s.acquire(s.file(name))
	if err != nil {
		return err
	}
	if err := s.deleteLocked(name, old, msg); err != nil {
		l.release()
		return err
	}
	// Its lock file gone, the ref's directory may be empty. Every ref
	// move holds refs.lock, so none is creating a ref in it meanwhile.
	l.release()
	pruneEmptyDirs(s.file(namespace(name)), filepath.Dir(s.file(name)))
	return nil
}

// namespace is the refs/<kind> directory a ref lives in (refs/heads for a
// branch), which stays when its last ref goes, as in git.
func namespace(name string) string {
	parts := strings.SplitN(name, "/", 3)
	if len(parts) < 3 {
		return "refs"
	}
	return parts[0] + "/" + parts[1]
}

// deleteLocked removes ref name, its name.lock held, logging the deletion.
// A broken ref goes too when old is Any: nothing else can remove it.
func (s *Store) deleteLocked(name string, old digest.Digest, msg string) error {
	cur, err := s.Read(name)
	if err != nil && !(old == Any && errors.Is(err, ErrBroken)) {
		return err
	}
	if err := checkOld(name, cur, old); err != nil {
		return err
	}
	undo, err := s.appendLog(name, cur, "", msg)
	if err != nil {
		return err
	}
	if err := os.Remove(s.file(name)); err != nil {
		undo()
		return err
	}
	return nil
}

// pruneEmptyDirs removes dir and its empty parents below top.
func pruneEmptyDirs(top, dir string) {
	for strings.HasPrefix(dir, top+string(filepath.Separator)) {
		if os.Remove(dir) != nil {
			return
		}
		dir = filepath.Dir(dir)
	}
}

// Locked runs fn under the refs lock: no ref moves meanwhile.
func (s *Store) Locked(fn func() error) error {
	l, err := s.lockRefs()
	if err != nil {
		return err
	}
	defer l.Release()
	return fn()
}

// SyncIndex rewrites index.json (OnUpdate) under the refs lock, so that
// it cannot overwrite a newer index written by a concurrent ref move.
func (s *Store) SyncIndex() error {
	l, err := s.lockRefs()
	if err != nil {
		return err
	}
	defer l.Release()
	return s.updated()
}

func (s *Store) updated() error {
	if s.OnUpdate == nil {
		return nil
	}
	return s.OnUpdate()
}

// List returns the refs whose full names start with prefix, sorted by name.
// A broken ref (its file holds no commit id) is left out, as git's
// "ignoring broken ref": it is passed to OnBroken, once per Store.
// Callers that must not overlook one (fsck, gc) use ListAll.
func (s *Store) List(prefix string) ([]Ref, error) {
	out, broken, err := s.ListAll(prefix)
	for _, b := range broken {
		s.warnBroken(b)
	}
	return out, err
}

// BrokenRef is a ref whose file holds no commit id.
type BrokenRef struct {
	Name string
	Err  error // wraps ErrBroken
}

// warnBroken passes b to OnBroken, the first time it is seen.
func (s *Store) warnBroken(b BrokenRef) {
	if s.OnBroken == nil {
		return
	}
	s.warnedMu.Lock()
	defer s.warnedMu.Unlock()
	if s.warned[b.Name] {
		return
	}
	if s.warned == nil {
		s.warned = map[string]bool{}
	}
	s.warned[b.Name] = true
	s.OnBroken(b)
}

// ListAll is List that returns the broken refs under prefix as well,
// sorted by name, instead of leaving them out.
func (s *Store) ListAll(prefix string) ([]Ref, []BrokenRef, error) {
	var out []Ref
	var broken []BrokenRef
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
		if errors.Is(err, ErrBroken) {
			broken = append(broken, BrokenRef{Name: name, Err: err})
			return nil
		}
		if err != nil {
			return err
		}
		out = append(out, Ref{Name: name, Target: d})
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	sort.Slice(broken, func(i, j int) bool { return broken[i].Name < broken[j].Name })
	return out, broken, err
}

// ErrLinkInRepo is wrapped when a ref or reflog would be written through
// a symbolic link inside the repository.
var ErrLinkInRepo = errors.New("a symbolic link inside the repository; not following it")

// mkdirs makes directory dir below the store's root, refusing to pass
// through a symbolic link on the way: refs and reflogs are written only
// inside the repository, where one handed over may have planted a link
// to a directory of the host (refs/heads -> /etc).
func (s *Store) mkdirs(dir string) error {
	rel, err := filepath.Rel(s.root, dir)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return fmt.Errorf("%s: not below %s", dir, s.root)
	}
	cur := s.root
	for _, part := range strings.Split(rel, "/") {
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		if errors.Is(err, fs.ErrNotExist) {
			break
		}
		if err != nil {
			return err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%s: %w", cur, ErrLinkInRepo)
		}
	}
	return os.MkdirAll(dir, 0o755)
}
