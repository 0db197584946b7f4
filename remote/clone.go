package remote

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/lockfile"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// CloneResult says what Clone made.
type CloneResult struct {
	Branch string // short name of the branch checked out
	Commit digest.Digest
	Fetch  FetchResult
	// Cleared says dir held what a killed clone left, which was removed.
	Cleared bool
}

// Clone makes a repository in dir from src, REPO[:TAG]: it adds remote
// origin, fetches TAG (every tag if none), and creates the branch TAG (or
// main, latest, or the first tag) at it, as HEAD. A directory it created
// is removed again if the clone fails.
func Clone(ctx context.Context, src, dir string, o Options) (*repo.Repo, CloneResult, error) {
	var res CloneResult
	url, tag, err := SplitRef(src)
	if err != nil {
		return nil, res, err
	}
	if tag != "" {
		if err := CheckTag(tag); err != nil {
			return nil, res, err
		}
	}
	ep, err := ParseEndpoint(url)
	if err != nil {
		return nil, res, err
	}
	// A path names a layout that must be there: not a remote with no tags.
	if ep.Dir != "" {
		if _, err := os.Stat(ep.Dir); errors.Is(err, os.ErrNotExist) {
			return nil, res, errors.New("no such directory")
		}
	}
	created := false
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		created = true
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, res, err
		}
	} else if errors.Is(err, syscall.ENOTDIR) {
		return nil, res, fmt.Errorf("%s: exists and is not a directory", dir)
	} else if err != nil {
		return nil, res, err
	}
	lock, err := takeCloneDir(dir, ents)
	if err != nil {
		return nil, res, err
	}
	res.Cleared = len(ents) > 0
	// Released once the repository is complete; a clone killed before
	// leaves the lock file, which tells the next clone into dir that
	// what is there is its own to remove.
	defer lock.Release()
	r, err := repo.Init(dir, "main")
	if err != nil {
		if created {
			os.RemoveAll(dir)
		}
		return nil, res, err
	}
	fail := func(err error) (*repo.Repo, CloneResult, error) {
		if created {
			os.RemoveAll(dir)
		} else {
			os.RemoveAll(r.Root)
		}
		return nil, res, err
	}
	rem := Remote{Name: "origin", URL: url, Insecure: o.Insecure}
	if err := Add(r.Config, rem); err != nil {
		return fail(err)
	}
	s, err := Connect(rem, o)
	if err != nil {
		return fail(err)
	}
	var tags []string
	if tag != "" {
		tags = []string{tag}
	}
	res.Fetch, err = s.Fetch(ctx, r, tags)
	if err != nil {
		return fail(err)
	}
	res.Branch = pickBranch(res.Fetch.Tags, tag)
	if res.Branch == "" {
		return fail(fmt.Errorf("%s: %w: no image tags to clone", url, ErrNotFound))
	}
	res.Commit = mustTarget(res.Fetch.Tags, res.Branch)
	if err := r.Refs.Update(refs.Heads+res.Branch, res.Commit, "", "clone: from "+src); err != nil {
		return fail(err)
	}
	if err := r.Refs.SetHeadBranch(refs.Heads+res.Branch, "clone"); err != nil {
		return fail(err)
	}
	_ = r.Config.Set("branch."+res.Branch+".remote", "origin")
	_ = r.Config.Set("branch."+res.Branch+".merge", refs.Heads+res.Branch)
	return r, res, nil
}

func pickBranch(tags []TagUpdate, want string) string {
	ok := map[string]bool{}
	first := ""
	for _, t := range tags {
		if t.New != "" && refs.CheckName(refs.Heads+t.Tag) == nil {
			ok[t.Tag] = true
			if first == "" {
				first = t.Tag
			}
		}
	}
	for _, c := range []string{want, "main", "latest"} {
		if c != "" && ok[c] {
			return c
		}
	}
	if want != "" {
		return ""
	}
	return first
}

func mustTarget(tags []TagUpdate, tag string) digest.Digest {
	for _, t := range tags {
		if t.Tag == tag {
			return t.New
		}
	}
	return ""
}

// cloneLockName is the lock a clone holds in its directory until the
// repository is complete.
const cloneLockName = ".strata-clone.lock"

// takeCloneDir takes the clone lock of dir, whose entries are ents. dir
// must be empty, or hold only what a killed clone left: its repository
// and its lock file, with no live holder. That is removed.
func takeCloneDir(dir string, ents []os.DirEntry) (*lockfile.Lock, error) {
	lockPath := filepath.Join(dir, cloneLockName)
	leftover := len(ents) > 0
	for _, e := range ents {
		if e.Name() != cloneLockName && e.Name() != repo.DirName {
			return nil, fmt.Errorf("%s: directory exists and is not empty", dir)
		}
	}
	if leftover {
		if _, err := os.Lstat(lockPath); err != nil {
			return nil, fmt.Errorf("%s: directory exists and is not empty", dir)
		}
	}
	l, err := lockfile.Try(lockPath)
	if err != nil {
		return nil, err
	}
	if l == nil {
		return nil, fmt.Errorf("%s: another clone into it is under way", dir)
	}
	if leftover {
		if err := os.RemoveAll(filepath.Join(dir, repo.DirName)); err != nil {
			l.Release()
			return nil, fmt.Errorf("%s: remove an interrupted clone: %w", dir, err)
		}
	}
	return l, nil
}
