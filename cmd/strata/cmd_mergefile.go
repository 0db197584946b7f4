package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/internal/treepath"
	"github.com/strata-sh/strata/merge/textmerge"
	"golang.org/x/sys/unix"
)

func init() { register("merge-file", newMergeFileCommand) }

// maxMergeFileSize is git's MAX_XDIFF_SIZE: a bigger file is refused
// before it is read (whole, into memory) and diffed line by line.
const maxMergeFileSize = 1023 << 20

// maxConflictStatus is where the exit status stops counting conflicts, as
// git merge-file's: higher statuses mean signals to a shell.
const maxConflictStatus = 127

func newMergeFileCommand(g *globals) *cobra.Command {
	var (
		toStdout, diff3, quiet bool
		zdiff3                 bool
		ours, theirs, union    bool
		labels                 []string
		markerSize             int
	)
	cmd := &cobra.Command{
		Use:   "merge-file [-p] [--diff3 | --zdiff3] [--ours | --theirs | --union] [--marker-size N] [-L label]... CURRENT BASE OTHER",
		Short: "Merge the changes from BASE to OTHER into CURRENT, as git merge-file",
		Long: `Merge one text file three ways with strata's own text merge
(merge/textmerge): the lines that changed from BASE to OTHER go into
CURRENT, and where both changed the same lines, conflict markers hold both
versions. The result is what 'git merge-file' writes, byte for byte.

The result replaces CURRENT, or with -p goes to standard output. -L names
the sides in the markers: up to three, for CURRENT, BASE and OTHER, in
that order (the file names by default). --diff3 also shows BASE's lines
in each conflict; --zdiff3 too, but moves the lines both sides begin or
end a conflict with out of it. --ours, --theirs and --union resolve
every conflict without markers: that side's lines, or ours' then
theirs'. --marker-size sets the markers' length (7). Binary files (a NUL
byte in the first 8000) and files over 1023 MiB are refused, as git
refuses them. Only regular files are read, and CURRENT is not written
through a symbolic link (git would); in a work tree, links are followed
in the tree's root, as its container sees them, never to the host.

Exit status: the number of conflicts (0: a clean merge), at most 127; also
1 on errors, with a message on stderr; 2 on usage errors.`,
		Args: exactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(labels) > 3 {
				return usagef("too many labels (-L): at most 3, for CURRENT, BASE and OTHER")
			}
			if diff3 && zdiff3 {
				return usagef("--diff3 and --zdiff3 exclude each other")
			}
			favor := textmerge.FavorNone
			for _, f := range []struct {
				set bool
				f   textmerge.Favor
			}{{ours, textmerge.FavorOurs}, {theirs, textmerge.FavorTheirs}, {union, textmerge.FavorUnion}} {
				if f.set {
					if favor != textmerge.FavorNone {
						return usagef("--ours, --theirs and --union exclude each other")
					}
					favor = f.f
				}
			}
			names := append(labels, args[len(labels):]...)
			var files [3][]byte
			for i, a := range args {
				// Often in a work tree a container wrote, where a FIFO
				// would hold the open and a device never end.
				b, mode, err := readRegular(a, maxMergeFileSize)
				if err != nil {
					var tooBig *tooLargeError
					if errors.As(err, &tooBig) {
						return fmt.Errorf("cannot merge %s: larger than 1023 MiB, as git merge-file", a)
					}
					return err
				}
				if !mode.IsRegular() {
					return fmt.Errorf("%s: not a regular file", a)
				}
				if textmerge.IsBinary(b) {
					return fmt.Errorf("cannot merge binary file %s", a)
				}
				files[i] = b
			}
			r := textmerge.Merge(files[1], files[0], files[2], textmerge.Options{
				Ours: names[0], Base: names[1], Theirs: names[2], Diff3: diff3, ZDiff3: zdiff3, Favor: favor, MarkerSize: markerSize,
			})
			if toStdout {
				if _, err := g.stdout.Write(r.Content); err != nil {
					return err
				}
			} else if err := writeInPlace(args[0], r.Content); err != nil {
				return err
			}
			if r.Conflicts > 0 {
				return exitCodeError{code: min(r.Conflicts, maxConflictStatus)}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&toStdout, "stdout", "p", false, "write the result to standard output, not into CURRENT")
	f.BoolVar(&diff3, "diff3", false, "show BASE's lines in conflicts too")
	f.BoolVar(&zdiff3, "zdiff3", false, "as --diff3, with the lines both sides begin or end a conflict with moved out of it")
	f.IntVar(&markerSize, "marker-size", 7, "the length of the conflict markers")
	f.BoolVar(&ours, "ours", false, "resolve conflicts with CURRENT's lines")
	f.BoolVar(&theirs, "theirs", false, "resolve conflicts with OTHER's lines")
	f.BoolVar(&union, "union", false, "resolve conflicts with both sides' lines, CURRENT's first")
	f.StringArrayVarP(&labels, "label", "L", nil, "name a side in the conflict markers (up to 3: CURRENT, BASE, OTHER)")
	f.BoolVarP(&quiet, "quiet", "q", false, "accepted for git's sake: strata prints no conflict warnings")
	return cmd
}

// writeInPlace rewrites path's content, keeping the file itself (its
// mode, owner and links), as git merge-file does; but not through a
// symbolic link, which a container may have pointed at a file of the
// host (git would follow it).
func writeInPlace(path string, content []byte) error {
	f, err := openInPlace(path)
	if errors.Is(err, syscall.ELOOP) {
		return fmt.Errorf("%s is a symbolic link: merge into what it names, or write to standard output (-p)", path)
	}
	if err != nil {
		return err
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return fmt.Errorf("%s: not a regular file", path)
	}
	if err := f.Truncate(0); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(content); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// openInPlace opens path for writeInPlace, failing with ELOOP where its
// last name is a symbolic link. In a work tree, the links on its way are
// followed in the tree (treepath.Path), and none is let in after that.
func openInPlace(path string) (*os.File, error) {
	real, inTree, err := treepath.Path(path, false)
	if err != nil {
		return nil, err
	}
	if !inTree {
		return os.OpenFile(path, os.O_WRONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	}
	fd, err := unix.Openat2(unix.AT_FDCWD, real, &unix.OpenHow{
		Flags:   unix.O_WRONLY | unix.O_NONBLOCK | unix.O_NOCTTY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err == unix.ELOOP {
		if fi, lerr := os.Lstat(real); lerr != nil || fi.Mode()&fs.ModeSymlink == 0 {
			return nil, errLinkPut(path)
		}
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}
