package checkout

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
	"golang.org/x/sys/unix"
)

// IgnoreFile is the exclude file inside a work tree, at its root.
const IgnoreFile = ".strataignore"

// Excludes says which paths never go into a commit: the patterns of
// .strata/info/exclude, then those of /.strataignore in the work tree,
// in gitignore syntax (a later pattern wins, "!" re-includes).
type Excludes struct {
	m gitignore.Matcher // nil: nothing is excluded
}

// LoadExcludes reads the repository's and the work tree's exclude files.
func LoadExcludes(repoRoot, worktree string) (*Excludes, error) {
	var ps []gitignore.Pattern
	for _, name := range []string{filepath.Join(repoRoot, "info", "exclude"), filepath.Join(worktree, IgnoreFile)} {
		f, err := os.Open(name)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ENOTDIR) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("checkout: read excludes: %w", err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := strings.TrimRight(sc.Text(), "\r")
			if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
				continue
			}
			ps = append(ps, gitignore.ParsePattern(line, nil))
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("checkout: read excludes %s: %w", name, err)
		}
	}
	if len(ps) == 0 {
		return &Excludes{}, nil
	}
	return &Excludes{m: gitignore.NewMatcher(ps)}, nil
}

// Empty reports whether no pattern is set.
func (e *Excludes) Empty() bool { return e == nil || e.m == nil }

// Match reports whether the absolute path p ("/tmp/x") is excluded.
func (e *Excludes) Match(p string, isDir bool) bool {
	if e.Empty() || p == "/" {
		return false
	}
	return e.m.Match(strings.Split(strings.TrimPrefix(p, "/"), "/"), isDir)
}

// carryExcluded moves the excluded entries of the current upper into dst,
// the next upper, recreating their parent directories with the same
// metadata.
func (w *Worktree) carryExcluded(dst string) error {
	ex, err := LoadExcludes(w.Repo.Root, w.target)
	if err != nil || ex.Empty() {
		return err
	}
	src := w.upper()
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == src {
				return filepath.SkipAll
			}
			return err
		}
		if p == src {
			return nil
		}
		rel := p[len(src):]
		if !ex.Match(rel, d.IsDir()) {
			return nil
		}
		if err := mkParents(src, dst, filepath.Dir(rel)); err != nil {
			return err
		}
		if err := os.Rename(p, dst+rel); err != nil {
			return err
		}
		if d.IsDir() {
			return filepath.SkipDir
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("checkout: keep excluded paths: %w", err)
	}
	return nil
}

// mkParents creates dst+rel and its parents like those of src+rel.
func mkParents(src, dst, rel string) error {
	if rel == "/" || rel == "." {
		return nil
	}
	if _, err := os.Lstat(dst + rel); err == nil {
		return nil
	}
	if err := mkParents(src, dst, filepath.Dir(rel)); err != nil {
		return err
	}
	var st unix.Stat_t
	if err := unix.Lstat(src+rel, &st); err != nil {
		return err
	}
	if err := os.Mkdir(dst+rel, 0o700); err != nil {
		return err
	}
	if err := os.Lchown(dst+rel, int(st.Uid), int(st.Gid)); err != nil {
		return err
	}
	return unix.Chmod(dst+rel, st.Mode&0o7777)
}
