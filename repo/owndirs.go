package repo

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ownDirs are the directories of a repository that commands write,
// remove and sweep below: gc removes what it finds in tmp, blobs/sha256,
// indexes, snapshots and build; checkout and reset remove below
// worktree.
var ownDirs = []string{
	"blobs", "blobs/sha256", "indexes", "indexes/sha256", "tmp",
	"snapshots", "refs", "logs", "info", "worktree", "worktree/upper",
	"worktree/work", "worktrees", "services", "build", "build/cache",
	"build/stat",
}

// ErrForeignDir is a repository directory that is a symbolic link or
// not a directory at all.
var ErrForeignDir = errors.New("a repository's own directories must be directories inside it")

// checkOwnDirs refuses a repository where one of ownDirs is a symbolic
// link (or anything but a directory): a repository handed over as a
// tar could name, say, tmp -> /home/you, and gc would sweep that
// directory's old files as its own leftovers. A missing one is made
// when needed, as a directory.
func checkOwnDirs(root string) error {
	for _, d := range ownDirs {
		fi, err := os.Lstat(filepath.Join(root, d))
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
			continue
		}
		if err != nil {
			return err
		}
		if fi.IsDir() {
			continue
		}
		what := "not a directory"
		if fi.Mode()&fs.ModeSymlink != 0 {
			what = "a symbolic link"
		}
		return fmt.Errorf("%s/%s is %s: %w", DirName, d, what, ErrForeignDir)
	}
	return nil
}
