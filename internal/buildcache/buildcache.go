// Package buildcache is where strata build keeps its step cache, and its
// pruning by gc: the CLI's gc prunes it without linking the build package
// (and its Dockerfile parser) into the front binary.
package buildcache

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/regfile"
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
		b, err := ReadFile(p)
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
		b, err := ReadFile(p)
		if err == nil {
			if key, ok := MemoKey(b, "sha256:"+e.Name()); ok {
				if _, err := os.Stat(filepath.Join(cacheDir, strings.TrimPrefix(key, "sha256:"))); err == nil {
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

// Memo is the content of the stat memo that maps statKey to the content
// key key: both keys, on one line. Entries and memos are written without
// fsync (a power cut may lose them, which costs a rebuild or a rehash),
// and a file renamed into place unflushed may come back empty or, on a
// filesystem that does not order data before metadata (ext4's
// data=writeback), holding a block another file freed: another memo.
// A cache entry is checked against its commit's annotation; a memo is
// checked by the stat key it names, which must be its own.
func Memo(statKey, key string) []byte {
	return []byte(statKey + " " + key + "\n")
}

// MemoKey returns the content key memo b holds if b is a memo written
// for statKey (Memo's format); else ok is false and the memo is a miss.
func MemoKey(b []byte, statKey string) (key string, ok bool) {
	own, key, found := strings.Cut(strings.TrimSuffix(string(b), "\n"), " ")
	if !found || own != statKey {
		return "", false
	}
	if _, err := digest.Parse(key); err != nil {
		return "", false
	}
	return key, true
}

// maxFile caps what ReadFile reads of an entry or a memo: one line of
// two keys is under 200 bytes.
const maxFile = 4 << 10

// ReadFile reads a cache entry or a stat memo. The directories come with
// the repository, which may be handed over with any file planted there:
// a FIFO, whose open waited for a writer forever (gc and build hung, out
// of reach of Ctrl-C), or a symbolic link to /dev/zero or to a large
// file, read whole into memory. strata writes neither (it renames a
// regular file into place), so only a regular file that is no link is
// read, and only its first maxFile bytes: anything else is a miss.
func ReadFile(path string) ([]byte, error) {
	f, err := regfile.OpenNoFollow(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxFile))
}
