package worktree

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/snapshot"
	"github.com/strata-sh/strata/tree"
	"golang.org/x/sys/unix"
)

// ErrNotInRevision: restore was asked for a path the revision does not
// have.
var ErrNotInRevision = errors.New("did not match any path in the revision")

// Restore writes what revision rev has at paths (absolute and clean:
// a file, a symlink, a device, or a directory with all below it) into the
// work tree, with its content, mode, owner, mtime and xattrs, as git's
// "checkout REV -- PATH" does: HEAD does not move, nothing is committed,
// and what the work tree has under a path that rev does not is kept
// (unless rev has a non-directory where the work tree has a directory:
// the directory goes, as in git).
// The directories above a path keep the work tree's attributes; one the
// work tree lacks, or has as something else, is made as rev has it. A
// path rev does not have is an error, and then nothing is written. A
// hard link whose other names are not restored comes back as a copy of
// their content: equal to the lower's, it is no change, and the layers
// keep the link. It returns how many entries other than directories it
// wrote.
//
// Without rev, a path a stopped merge, rebase, cherry-pick or revert left
// in conflict is refused (ErrUnmerged), as git refuses it: HEAD's version
// would silently drop the other side's change there. RestoreSide takes
// one side. So is one a checkout -m left unmerged, whose local change
// is only in the work tree; rev HEAD takes the version switched to.
func (w *Worktree) Restore(ctx context.Context, rev string, paths []string) (int, error) {
	return w.restore(ctx, paths, func(st State) (*objects.Commit, string, error) {
		if rev != "" {
			c, err := w.Resolve(rev)
			return c, rev, err
		}
		// No source: what the work tree's changes are against.
		c, err := w.restoreSource(st)
		return c, refs.HEAD, err
	}, func(st State, _ *objects.Commit, paths []string) ([]string, error) {
		if rev != "" {
			return paths, nil
		}
		if err := w.refuseUnmerged(paths); err != nil {
			return nil, err
		}
		return paths, refuseCheckoutUnmerged(st, paths)
	})
}

// restore is Restore from the commit source picks, named rev in messages;
// narrow refuses paths, or picks those among them to write.
func (w *Worktree) restore(ctx context.Context, paths []string, source func(State) (*objects.Commit, string, error), narrow func(State, *objects.Commit, []string) ([]string, error)) (int, error) {
	unlock, err := w.lock(ctx)
	if err != nil {
		return 0, err
	}
	defer unlock()
	st, err := w.ensure(ctx)
	if err != nil {
		return 0, err
	}
	c, rev, err := source(st)
	if err != nil {
		return 0, err
	}
	if paths, err = w.expandPatterns(c, rev, paths); err != nil {
		return 0, err
	}
	if paths, err = narrow(st, c, paths); err != nil {
		return 0, err
	}
	wanted := func(p string) bool { return tree.Under(p, paths) }
	above := func(p string) bool {
		for _, q := range paths {
			if p == "/" || strings.HasPrefix(q, p+"/") {
				return true
			}
		}
		return false
	}
	t, err := w.trees.Subset(c, func(p string) bool { return wanted(p) || above(p) })
	if err != nil {
		return 0, err
	}
	for _, p := range paths {
		if p != "/" && t[p] == nil {
			return 0, fmt.Errorf("%s: %w %s", pathquote.Quote(p), ErrNotInRevision, pathquote.Text(rev)) // as status names paths
		}
	}
	// The directories above the paths keep the work tree's attributes,
	// where the work tree has them as directories; one it has as
	// something else (a file, a symlink) is made the revision's
	// directory, as git does.
	var aboveDirs []string
	for p := range t {
		if above(p) {
			aboveDirs = append(aboveDirs, p)
		}
	}
	keep, err := w.realDirs(aboveDirs)
	if err != nil {
		return 0, err
	}
	lowers, err := w.lowers(ctx, c.Layers())
	if err != nil || len(lowers) == 0 {
		return 0, err // no layers: "/" is all it has, and empty
	}
	n, err := w.unpackFrom(ctx, lowers, func(p string) bool { return wanted(p) || above(p) }, keep)
	if err != nil {
		return n, err
	}
	return n, w.dropUnmerged(&st, wanted)
}

// unpackFrom streams the entries include names from a read-only overlay
// of lowers (topmost first) into the work tree, less the directories
// keep names. The entries are read from an overlay that is never
// attached to the file system and written by the layer unpacker, which
// resolves every path inside the work tree: a symlink the work tree holds
// on the way cannot send a write outside.
func (w *Worktree) unpackFrom(ctx context.Context, lowers []string, include func(string) bool, keep map[string]bool) (int, error) {
	if len(lowers) < 2 {
		// A read-only overlay needs two lowers.
		empty, err := os.MkdirTemp(w.Repo.Objects.TempDir(), "restore-")
		if err != nil {
			return 0, err
		}
		defer os.Remove(empty)
		lowers = append(lowers, empty)
	}
	src, err := snapshot.Plan(lowers, "", "", "the revision to restore from").Open()
	if err != nil {
		return 0, err
	}
	defer src.Close()
	tr, tw := io.Pipe()
	written := make(chan struct{})
	go func() {
		defer close(written)
		_, err := layer.WriteTar(ctx, "/proc/self/fd/"+strconv.Itoa(int(src.Fd())), tw, layer.WriteOptions{
			Exclude: func(p string, isDir bool) bool { return !include(p) },
		})
		tw.CloseWithError(err)
	}()
	defer func() { <-written }() // before src closes
	fr, fw := io.Pipe()
	counted := make(chan int, 1)
	go func() {
		n, err := dropEntries(tr, fw, func(p string) bool { return keep[p] })
		tr.CloseWithError(io.ErrClosedPipe) // stops WriteTar if this ended first
		fw.CloseWithError(err)
		counted <- n
	}()
	err = layer.Unpack(ctx, fr, w.target, layer.Apply)
	fr.CloseWithError(io.ErrClosedPipe) // stops the filter if Unpack ended first
	n := <-counted
	return n, err
}

// dropEntries copies the tar r to w without the entries drop names (the
// directories above the restored paths, which keep the work tree's
// attributes), and counts the entries other than directories it copies.
func dropEntries(r io.Reader, w io.Writer, drop func(p string) bool) (int, error) {
	in, out := tar.NewReader(r), tar.NewWriter(w)
	n := 0
	for {
		hdr, err := in.Next()
		if err == io.EOF {
			return n, out.Close()
		}
		if err != nil {
			return n, err
		}
		if drop(path.Clean("/" + hdr.Name)) {
			continue
		}
		if hdr.Typeflag != tar.TypeDir {
			n++
		}
		if err := out.WriteHeader(hdr); err != nil {
			return n, err
		}
		if _, err := io.Copy(out, in); err != nil {
			return n, err
		}
	}
}

// realDirs returns which of dirs (absolute) the work tree has as
// directories, reached without following a symlink.
func (w *Worktree) realDirs(dirs []string) (map[string]bool, error) {
	root, err := unix.Open(w.target, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", w.target, err)
	}
	defer unix.Close(root)
	out := map[string]bool{}
	how := unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_SYMLINKS}
	for _, d := range dirs {
		fd, err := unix.Openat2(root, strings.TrimPrefix(d, "/"), &how)
		if err == nil {
			unix.Close(fd)
			out[d] = true
		}
	}
	return out, nil
}

// expandPatterns replaces each pattern among paths (tree.IsGlob) that is
// not a path of c by the paths of c it matches: what is restored, and
// whose directories are made, is then as if they had been named.
func (w *Worktree) expandPatterns(c *objects.Commit, rev string, paths []string) ([]string, error) {
	var t tree.Tree
	out := make([]string, 0, len(paths))
	for _, q := range paths {
		if !tree.IsGlob(q) {
			out = append(out, q)
			continue
		}
		if t == nil {
			var err error
			if t, err = w.trees.Of(c); err != nil {
				return nil, err
			}
		}
		if t[q] != nil {
			out = append(out, q)
			continue
		}
		n := len(out)
		for p := range t {
			if tree.GlobMatch(q, p) {
				out = append(out, p)
			}
		}
		if len(out) == n {
			return nil, fmt.Errorf("%s: %w %s", pathquote.Quote(q), ErrNotInRevision, pathquote.Text(rev))
		}
	}
	return out, nil
}
