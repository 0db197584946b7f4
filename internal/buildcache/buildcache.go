// Package buildcache is where strata build keeps its step cache, and its
// pruning by gc: the CLI's gc prunes it without linking the build package
// (and its Dockerfile parser) into the front binary.
package buildcache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"
)

// Dirs returns, for the repository at root (a .strata directory), the
// directory of cache entries (one file a step key, holding the commit
// id) and that of stat memos (one file a stat key, holding the content
// key, a step key).
func Dirs(root string) (cache, memos string) {
	return filepath.Join(root, "build", "cache"), filepath.Join(root, "build", "stat")
}

// Prune runs after gc's blobs are gone: it removes the cache entries
// whose commit is not kept, and the stat memos whose content key has no
// entry left, which a build could only look up to miss. Without it the
// cache grew by a file (a disk block) a step, and one a COPY, for every
// build ever run, whatever gc freed.
func Prune(root string, kept map[digest.Digest]bool) error {
	cacheDir, memoDir := Dirs(root)
	entries, err := os.ReadDir(cacheDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("prune the build cache: %w", err)
	}
	for _, e := range entries {
		p := filepath.Join(cacheDir, e.Name())
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if id, err := digest.Parse(strings.TrimSpace(string(b))); err == nil && kept[id] {
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("prune the build cache: %w", err)
		}
	}
	memos, err := os.ReadDir(memoDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("prune the build cache: %w", err)
	}
	for _, e := range memos {
		p := filepath.Join(memoDir, e.Name())
		b, err := os.ReadFile(p)
		if err == nil {
			if key, err := digest.Parse(strings.TrimSpace(string(b))); err == nil {
				if _, err := os.Stat(filepath.Join(cacheDir, key.Encoded())); err == nil {
					continue
				}
			}
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("prune the build cache: %w", err)
		}
	}
	return nil
}
