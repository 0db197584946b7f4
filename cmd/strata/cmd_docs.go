//go:build !strata_front

package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/internal/treepath"
	"golang.org/x/sys/unix"
)

func init() { register("docs", newDocsCommand) }

// newDocsCommand writes man pages from the commands themselves, so that
// they say what --help says; make install installs them.
func newDocsCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "docs man DIR",
		Short: "Write man pages (strata.1, strata-COMMAND.1) into DIR",
		Long: `Write a man page for strata and one for each command into DIR, generated
from the same text as --help. Shell completion scripts come from
"strata completion bash|zsh|fish|powershell".

  strata docs man /usr/local/share/man/man1

A DIR in a work tree is the container's: its links are followed in the
tree's root, as the container sees them, and no page is written through
a link.

Exit status: 0 on success, 1 on errors, 2 on usage errors.`,
		Hidden: false,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 || args[0] != "man" {
				return usagef("docs: usage: strata docs man DIR")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[1]
			// In a work tree, where the container's links lead there.
			real, inTree, err := treepath.Path(dir, true)
			if err != nil {
				return fmt.Errorf("docs man: %w", err)
			}
			if inTree {
				dir = real
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("docs man: %w", err)
			}
			write := func(name string, b []byte) error {
				return os.WriteFile(filepath.Join(dir, name), b, 0o644)
			}
			if inTree {
				var done func()
				if write, done, err = pagesInTree(dir); err != nil {
					return fmt.Errorf("docs man: %w", err)
				}
				defer done()
			}
			// Every command's page: this command line's tree holds docs
			// alone (newRootCommand), and cobra adds help and completion
			// only as it executes.
			root := newRootCommand(g, "")
			root.InitDefaultHelpCmd()
			root.InitDefaultCompletionCmd()
			root.DisableAutoGenTag = true // the same pages from the same source
			if err := writeManTree(root, write, "strata "+version); err != nil {
				return fmt.Errorf("docs man: %w", err)
			}
			fmt.Fprintf(g.stdout, "Wrote man pages to %s\n", args[1])
			return nil
		},
	}
	return cmd
}

// pagesInTree is the page writer for dir, a directory of a work tree with
// no link on its way (treepath.Path): it writes by name in that directory
// opened once, so no link is let in on its way since, and none is
// followed at a page's name (a container's strata.1 -> /etc/passwd).
// done closes the directory.
func pagesInTree(dir string) (write func(string, []byte) error, done func(), err error) {
	dfd, err := unix.Openat2(unix.AT_FDCWD, dir, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		return nil, nil, &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	write = func(name string, b []byte) error {
		fd, err := unix.Openat(dfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0o644)
		if err != nil {
			return &fs.PathError{Op: "open", Path: filepath.Join(dir, name), Err: err}
		}
		f := os.NewFile(uintptr(fd), filepath.Join(dir, name))
		if _, err := f.Write(b); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	return write, func() { unix.Close(dfd) }, nil
}
