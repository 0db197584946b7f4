package regfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// OpenOwn opens path, a file strata keeps in a directory of a repository
// (a run's marks, a work tree's scan stamp), for writing with flag as
// os.OpenFile's, creating it with perm if need be. What it opens is the
// directory's own file, never what a name planted there leads to: a
// symbolic link fails (ELOOP), what is not a regular file is refused
// unopened (OpenFile), and a regular file that has other names too (a
// hard link to the repository's config or a ref, say) loses this name
// and a new file is made in its place, so that no write or truncation
// reaches the file the link shares. O_TRUNC applies after that check.
func OpenOwn(path string, flag int, perm fs.FileMode) (*os.File, error) {
	keep := flag&^os.O_TRUNC | os.O_CREATE | unix.O_NOFOLLOW
	f, err := OpenFile(path, keep, perm)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if fi.Sys().(*syscall.Stat_t).Nlink > 1 {
		f.Close()
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("unlink a file linked elsewhere: %w", err)
		}
		return OpenFile(path, keep|os.O_EXCL, perm)
	}
	if flag&os.O_TRUNC != 0 {
		if err := f.Truncate(0); err != nil {
			f.Close()
			return nil, &fs.PathError{Op: "truncate", Path: path, Err: err}
		}
	}
	return f, nil
}
