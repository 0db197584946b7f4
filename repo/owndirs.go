package repo

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/strata-sh/strata/internal/pathquote"
)

// ownDirs are the directories of a repository that commands write,
// remove and sweep below: gc removes what it finds in tmp, blobs/sha256,
// indexes, snapshots and build; checkout and reset remove below
// worktree.
var ownDirs = []string{
	"blobs", "blobs/sha256", "indexes", "indexes/sha256", "tmp",
	"snapshots", "refs", "logs", "info", "worktree", "worktree/upper",
	"worktree/work", "worktrees", "services", "services/.names", "build", "build/cache",
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
		if err := CheckOwnDir(root, d); err != nil {
			return err
		}
	}
	return nil
}

// CheckOwnDir is ErrForeignDir, naming it, if rel below the repository
// root is there but is a symbolic link or not a directory.
func CheckOwnDir(root, rel string) error {
	fi, err := os.Lstat(filepath.Join(root, rel))
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return nil
	}
	what := "not a directory"
	if fi.Mode()&fs.ModeSymlink != 0 {
		what = "a symbolic link"
	}
	return fmt.Errorf("%s is %s: %w", pathquote.Quote(DirName+"/"+rel), what, ErrForeignDir)
}
