//go:build !strata_front

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// writeInTree is writeOutput of real, a path in a work tree with no
// symbolic link on its way (treepath.Path): its directory is opened with
// no link let in (a container that swaps one in since is refused), and
// the file is looked at, made and renamed in that directory by name,
// never through a link.
func writeInTree(ctx context.Context, real, out string, write func(io.Writer) error) error {
	dir, base := filepath.Dir(real), filepath.Base(real)
	dfd, err := unix.Openat2(unix.AT_FDCWD, dir, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
	if errors.Is(err, unix.ELOOP) {
		return fmt.Errorf("%s: %w", out, errLinkPut(dir))
	}
	if err != nil {
		return nameOutput(&fs.PathError{Op: "open", Path: dir, Err: err}, "", out)
	}
	defer unix.Close(dfd)
	at := fmt.Sprintf("/proc/self/fd/%d", dfd) // the pinned directory
	name := at + "/" + base
	fi, err := os.Lstat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		fi = nil
	case err != nil:
		return nameOutput(err, name, out)
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%s: %w", out, errLinkPut(real))
	case fi.IsDir():
		return fmt.Errorf("%s: is a directory", out)
	case !fi.Mode().IsRegular():
		f, err := openInterruptible(ctx, name, os.O_WRONLY|unix.O_NOFOLLOW) // a device: the mount is nodev
		if err != nil {
			return nameOutput(err, name, out)
		}
		if err := write(f); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	f, err := createTemp(at, "."+base+".tmp-")
	if err != nil {
		return nameOutput(err, "", out)
	}
	tmp := filepath.Base(f.Name())
	defer unix.Unlinkat(dfd, tmp, 0)
	if err := writeTemp(f, fi, write); err != nil {
		return nameOutput(err, f.Name(), out)
	}
	if err := unix.Renameat(dfd, tmp, dfd, base); err != nil {
		return &fs.PathError{Op: "rename", Path: out, Err: err}
	}
	return nil
}
