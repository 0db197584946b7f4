//go:build !strata_front

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/image"
	"github.com/strata-sh/strata/internal/treepath"
	"github.com/strata-sh/strata/remote"
	"golang.org/x/term"
)

func init() { register("export", newExportCommand) }

func newExportCommand(g *globals) *cobra.Command {
	var out, format, tag string
	cmd := &cobra.Command{
		Use:   "export REV -o FILE [--format docker|oci] [--tag NAME[:TAG]]",
		Short: "Write a commit as an image archive",
		Long: `Write REV as an image archive, for tools that do not speak registries:
  --format docker (default)  what 'docker save' writes: 'docker load',
                             'podman load' and 'skopeo ... docker-archive:' read it
  --format oci               an OCI image layout as a tar, its layers zstd
                             as stored (umoci 0.4 reads gzip only: for it,
                             strata push --compression gzip DIR BRANCH writes
                             a layout directory that 'umoci unpack' reads)
The image is named NAME:TAG as docker names images (myapp:v1, foo/bar:baz,
localhost:5000/env:v1; NAME alone is NAME:latest); without --tag,
<project>:<REV>. -o - writes to standard output (not a terminal). The
file appears only when complete. A symbolic link FILE is written through,
except one that another user owns in a sticky world-writable directory
such as /tmp (the kernel's protected_symlinks refuses it to a shell too).
A link in a work tree is the container's: it is followed in the tree's
root, as the container sees it, never to a file of the host.

Exit status: 0 on success, 1 on errors, 2 on usage errors.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usagef("export: name the output file with -o FILE (or -o - for stdout)")
			}
			if format != image.FormatDocker && format != image.FormatOCI {
				return usagef("--format %s: must be docker or oci", format)
			}
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			c, err := r.Resolve(args[0])
			if err != nil {
				return fmt.Errorf("export %s: %w", args[0], err)
			}
			if tag == "" {
				tag = image.NameComponent(filepath.Base(r.Dir)) + ":" + args[0]
				if remote.CheckTag(args[0]) != nil {
					tag = image.NameComponent(filepath.Base(r.Dir)) + ":" + shortID(c.ID)
				}
			} else if tag, err = image.ParseName(tag); err != nil {
				// docker load and podman refuse an archive named so (and a
				// newline would end the summary line): refuse it first.
				return usagef("export: --tag %w", err)
			}
			if out == "-" || isStdout(out, g.stdout) { // -o /dev/stdout: no summary in the archive
				// As docker save and podman save: an archive is no text to show.
				if f, ok := g.stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
					return usagef("export: standard output is a terminal, not a file: give -o FILE, or redirect")
				}
				warnLayerLimit(g.stderr, c.ID, len(c.Layers()))
				return image.Export(cmd.Context(), r.Objects, c, format, tag, g.stdout)
			}
			err = writeOutput(cmd.Context(), out, func(w io.Writer) error {
				return image.Export(cmd.Context(), r.Objects, c, format, tag, w)
			})
			if err != nil {
				return fmt.Errorf("export %s: %w", args[0], err)
			}
			fmt.Fprintf(g.stdout, "Exported %s (%s) to %s as %s\n", args[0], shortID(c.ID), out, tag)
			warnLayerLimit(g.stderr, c.ID, len(c.Layers()))
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to `FILE`")
	cmd.Flags().StringVar(&format, "format", image.FormatDocker, "archive format: docker or oci")
	cmd.Flags().StringVar(&tag, "tag", "", "image name `NAME[:TAG]` in the archive")
	return cmd
}

// writeOutput writes what write makes to the file out, as -o FILE names
// it. A regular file, or a new one, is replaced whole: written beside it
// under a temporary name, synced, then renamed over it (through a symlink
// to it, which stays a symlink, unless the kernel's protected_symlinks
// would refuse to follow it: resolveOutput), so a failed export leaves no
// half archive. The file keeps its mode; a new one gets os.Create's. Anything
// else that exists is written in place: a device, a FIFO, /dev/stdout;
// renaming over those replaced the node itself (export -o /dev/full once
// put a regular file in /dev). ctx's end (a signal) stops a wait for a
// FIFO's reader. An output in a work tree is written as treepath.Path
// resolves it (writeInTree).
func writeOutput(ctx context.Context, out string, write func(io.Writer) error) error {
	if real, ok, err := treepath.Path(out, true); err != nil {
		return err
	} else if ok {
		return writeInTree(ctx, real, out, write)
	}
	target := out
	fi, err := os.Stat(out)
	switch {
	case err == nil && fi.IsDir():
		return fmt.Errorf("%s: is a directory", out)
	case err == nil && !fi.Mode().IsRegular():
		f, err := openInterruptible(ctx, out, os.O_WRONLY) // a FIFO waits for its reader
		if err != nil {
			return err
		}
		if err := write(f); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	case err == nil:
		if target, err = resolveOutput(out); err != nil {
			return err
		}
	case !errors.Is(err, fs.ErrNotExist):
		return err
	default:
		// A new file: the links to its directory are checked as well.
		if dir, base, ok := treepath.Split(out); ok {
			dir, err := resolveOutput(dir)
			if errors.Is(err, errForeignLink) {
				return err
			}
			if err == nil {
				target = filepath.Join(dir, base)
			}
		}
	}
	f, err := createTemp(filepath.Dir(target), "."+filepath.Base(target)+".tmp-")
	if err != nil {
		return nameOutput(err, "", out)
	}
	defer os.Remove(f.Name())
	if err := writeTemp(f, fi, write); err != nil {
		return nameOutput(err, f.Name(), out)
	}
	if err := os.Rename(f.Name(), target); err != nil {
		return &fs.PathError{Op: "rename", Path: out, Err: errors.Unwrap(err)}
	}
	return nil
}

// writeTemp writes, syncs and closes f, with the mode of the file it
// replaces (fi), if any.
func writeTemp(f *os.File, fi fs.FileInfo, write func(io.Writer) error) error {
	err := write(f)
	if err == nil {
		err = f.Sync()
	}
	if err == nil && fi != nil {
		err = f.Chmod(fi.Mode().Perm())
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// createTemp is os.CreateTemp with the mode os.Create gives, 0666 less
// the umask (and a directory's default ACL): the kernel applies both.
func createTemp(dir, prefix string) (*os.File, error) {
	for range 10000 {
		name := filepath.Join(dir, prefix+strconv.FormatUint(uint64(rand.Uint32()), 10))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
	return nil, &fs.PathError{Op: "createtemp", Path: filepath.Join(dir, prefix+"*"), Err: fs.ErrExist}
}

// nameOutput makes err name the file the user gave, out, where it names
// the temporary file tmp ("" for any path: creating it failed). The
// PathError is this command's own: changed in place, the errors that
// wrap it keep their words.
func nameOutput(err error, tmp, out string) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && (tmp == "" || pe.Path == tmp) {
		pe.Path = out
	}
	return err
}

// isStdout reports whether path is the file standard output writes to.
func isStdout(path string, stdout io.Writer) bool {
	f, ok := stdout.(*os.File)
	if !ok {
		return false
	}
	a, err := os.Stat(path)
	if err != nil {
		return false
	}
	b, err := f.Stat()
	return err == nil && os.SameFile(a, b)
}
