package worktree

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/tree"
	"golang.org/x/sys/unix"
)

// IgnoreFile is the exclude file inside a work tree, at its root.
const IgnoreFile = ".strataignore"

// Excludes says which paths never go into a commit: the patterns of
// .strata/info/exclude, then those of /.strataignore in the work tree,
// in gitignore syntax (a later pattern wins, "!" re-includes). As git's
// ignore rules, they apply only to paths the commit does not have: a
// change to a tracked path is shown and committed (Untracked).
type Excludes struct {
	m gitignore.Matcher // nil: nothing is excluded
	// tracked, if set, holds paths the patterns do not apply to. A nil
	// tracked is for callers that only ask about new paths.
	tracked tree.Tree
	// incoming, if set, is the tree of a commit a switch brings in: its
	// paths are not excluded either, so that an ignored file there gives
	// way to the commit's file, as git's checkout overwrites one.
	incoming tree.Tree
}

// Untracked returns e for a work tree on a commit whose tree (or the
// part of it a scan of the upper looks up) is t: its paths are never
// excluded. Ignoring an edit of a tracked file would leave it out of
// every commit, unseen by status, and lost by worktree remove.
func (e *Excludes) Untracked(t tree.Tree) *Excludes {
	if e.Empty() {
		return e
	}
	return &Excludes{m: e.m, tracked: t}
}

// Incoming returns e, which must be Untracked, for the upper of a switch
// to a commit whose tree is t: t's paths are not excluded either.
func (e *Excludes) Incoming(t tree.Tree) *Excludes {
	if e.Empty() {
		return e
	}
	return &Excludes{m: e.m, tracked: e.tracked, incoming: t}
}

// maxIgnoreFile caps an exclude file: the host reads it from a tree a
// container may write.
const maxIgnoreFile = 1 << 20

// LoadExcludes reads the repository's and the work tree's exclude files.
// They are read without following a symlink, only if regular, and at most
// maxIgnoreFile bytes: a FIFO or a link to /dev/zero is an error naming
// the file, never a hang.
func LoadExcludes(repoRoot, worktree string) (*Excludes, error) {
	var ps []gitignore.Pattern
	for _, name := range []string{filepath.Join(repoRoot, "info", "exclude"), filepath.Join(worktree, IgnoreFile)} {
		b, err := readSmall(name, maxIgnoreFile)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ENOTDIR) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read excludes: %w", err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			line = strings.TrimRight(line, "\r")
			if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
				continue
			}
			ps = append(ps, gitignore.ParsePattern(line, nil))
		}
	}
	if len(ps) == 0 {
		return &Excludes{}, nil
	}
	return &Excludes{m: gitignore.NewMatcher(ps)}, nil
}

// readSmall reads the regular file at p (its directory is trusted, p
// itself is not) with layer.Dir's rules.
func readSmall(p string, max int64) ([]byte, error) {
	d, err := layer.OpenDir(filepath.Dir(p))
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.ReadSmallFile(filepath.Base(p), max)
}

// Empty reports whether no pattern is set.
func (e *Excludes) Empty() bool { return e == nil || e.m == nil }

// Match reports whether the absolute path p ("/tmp/x") is excluded.
func (e *Excludes) Match(p string, isDir bool) bool {
	if e.Empty() || p == "/" || e.tracked[p] != nil || e.incoming[p] != nil {
		return false
	}
	return e.m.Match(strings.Split(strings.TrimPrefix(p, "/"), "/"), isDir)
}

// carryExcluded moves the excluded entries of the current upper into dst,
// the next upper of a switch to c, recreating their parent directories
// with the same metadata. A container may be changing the upper
// meanwhile: both trees are walked through directory fds, names are
// moved with renameat between pinned directories, and a directory that
// turned into something else is passed over, never followed.
// st is the state whose upper is carried: only paths its commit does not
// have are carried (Untracked); nor are paths c has, which stay behind
// with the old upper, so that c's entry shows there, as git's checkout
// and reset --hard overwrite an ignored file with a tracked one.
func (w *Worktree) carryExcluded(st State, c *objects.Commit, dst string) error {
	ex, err := LoadExcludes(w.Repo.Root, w.target)
	if err != nil {
		return err
	}
	if ex, err = w.untracked(ex, st); err != nil {
		return err
	}
	if !ex.Empty() && c != nil {
		t, err := w.trees.Of(c)
		if err != nil {
			return err
		}
		ex = ex.Incoming(t)
	}
	return w.carryExcludedBy(ex, dst)
}

// untracked returns ex for the upper of st (Excludes.Untracked), with
// the part of st's commit tree that the upper's paths look up.
func (w *Worktree) untracked(ex *Excludes, st State) (*Excludes, error) {
	if ex.Empty() {
		return ex, nil
	}
	c, err := w.commit(st.Commit)
	if err != nil || c == nil {
		return ex, err
	}
	head, _, err := w.scanTrees(st, c)
	if err != nil {
		return nil, err
	}
	return ex.Untracked(head), nil
}

// carryExcludedBy moves what ex excludes from the upper into dst.
func (w *Worktree) carryExcludedBy(ex *Excludes, dst string) error {
	if ex.Empty() {
		return nil
	}
	src, err := layer.OpenDir(w.upper())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("keep excluded paths: %w", err)
	}
	defer src.Close()
	to, err := layer.OpenDir(dst)
	if err != nil {
		return fmt.Errorf("keep excluded paths: %w", err)
	}
	defer to.Close()
	c := &carrier{ex: ex}
	if err := c.walk("", src, func() (*layer.Dir, error) { return to, nil }); err != nil {
		return fmt.Errorf("keep excluded paths: %w", err)
	}
	return nil
}

type carrier struct{ ex *Excludes }

// walk carries the excluded entries below src (at rel) into the directory
// dst returns, which is made only when something is moved into it.
func (c *carrier) walk(rel string, src *layer.Dir, dst func() (*layer.Dir, error)) error {
	names, err := src.Names()
	if err != nil {
		return err
	}
	for _, name := range names {
		crel := rel + "/" + name
		st, err := src.Lstat(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed meanwhile
		} else if err != nil {
			return err
		}
		isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
		if c.ex.Match(crel, isDir) {
			to, err := dst()
			if err != nil {
				return err
			}
			if err := src.RenameTo(name, to); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			continue
		}
		if !isDir {
			continue
		}
		sub, err := src.Sub(name, &st)
		if errors.Is(err, layer.ErrFileChanged) || errors.Is(err, fs.ErrNotExist) {
			continue // no longer the directory it was: nothing to descend
		} else if err != nil {
			return err
		}
		var made *layer.Dir
		mk := func() (*layer.Dir, error) {
			if made != nil {
				return made, nil
			}
			parent, err := dst()
			if err != nil {
				return nil, err
			}
			made, err = parent.MkdirLike(name, &st)
			return made, err
		}
		err = c.walk(crel, sub, mk)
		sub.Close()
		made.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
