package worktree

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/tree"
	"golang.org/x/sys/unix"
)

// carryCommitted prepares a reset --soft from old to c, as git's: the work
// tree must go on showing what it shows now, so what the dropped commits
// changed becomes uncommitted. Every path that differs between the two
// commits is copied from the mounted view into a staging directory (paths
// c has and old lacks become whiteouts there); after the old overlay is
// unmounted, mergeStaged moves that into the upper, where what the upper
// already holds wins. It returns the staging directory, or "" if the two
// trees are the same.
func (w *Worktree) carryCommitted(ctx context.Context, old, c *objects.Commit) (string, error) {
	told, tnew, err := w.treesOf(old, c)
	if err != nil {
		return "", err
	}
	copyPaths, parents := map[string]bool{}, map[string]bool{}
	var whiteouts []string
	for _, ch := range tree.DiffTrees(tnew, told, nil) {
		if ch.Kind == tree.Deleted {
			whiteouts = append(whiteouts, ch.Path)
		} else {
			copyPaths[ch.Path] = true
		}
		for d := path.Dir(ch.Path); d != "/"; d = path.Dir(d) {
			parents[d] = true
		}
	}
	if len(copyPaths) == 0 && len(whiteouts) == 0 {
		return "", nil
	}
	stage, err := os.MkdirTemp(w.Repo.Objects.TempDir(), "soft-reset-")
	if err != nil {
		return "", fmt.Errorf("reset --soft: %w", err)
	}
	// The changed paths and their parent directories (for their modes and
	// owners), as the mounted view shows them.
	pr, pw := io.Pipe()
	go func() {
		_, err := layer.WriteTar(ctx, w.target, pw, layer.WriteOptions{Exclude: func(p string, isDir bool) bool {
			return !copyPaths[p] && !(isDir && parents[p])
		}})
		pw.CloseWithError(err)
	}()
	err = layer.Unpack(ctx, pr, stage, layer.Apply)
	pr.CloseWithError(io.ErrClosedPipe)
	if err != nil {
		os.RemoveAll(stage)
		return "", fmt.Errorf("reset --soft: copy the work tree: %w", err)
	}
	if err := stageWhiteouts(stage, whiteouts, told, tnew); err != nil {
		os.RemoveAll(stage)
		return "", err
	}
	return stage, nil
}

// stageWhiteouts makes the whiteouts of the staged copy, but none under a
// directory the new tree adds (whited out already as a whole).
func stageWhiteouts(stage string, whiteouts []string, told, tnew tree.Tree) error {
	var ws []string
	for _, p := range whiteouts {
		if tnew[path.Dir(p)] != nil && told[path.Dir(p)] == nil && path.Dir(p) != "/" {
			continue // its parent is whited out already
		}
		ws = append(ws, p)
	}
	if err := makeWhiteouts(stage, ws); err != nil {
		return fmt.Errorf("reset --soft: %w", err)
	}
	return nil
}

// mergeStaged moves what carryCommitted staged into the upper, keeping
// whatever the upper already has at a path (it is what the view showed).
// The upper may still be written by a container: both trees are walked
// through directory fds and names are moved with renameat, so no symlink
// in either can send a staged file elsewhere.
func mergeStaged(stage, upper string) error {
	defer os.RemoveAll(stage)
	from, err := layer.OpenDir(stage)
	if err != nil {
		return fmt.Errorf("reset --soft: %w", err)
	}
	defer from.Close()
	to, err := layer.OpenDir(upper)
	if err != nil {
		return fmt.Errorf("reset --soft: %w", err)
	}
	defer to.Close()
	if err := mergeDir(from, to); err != nil {
		return fmt.Errorf("reset --soft: %w", err)
	}
	return nil
}

func mergeDir(from, to *layer.Dir) error {
	names, err := from.Names()
	if err != nil {
		return err
	}
	for _, name := range names {
		dst, err := to.Lstat(name)
		if errors.Is(err, fs.ErrNotExist) {
			if err := from.RenameTo(name, to); err != nil && !errors.Is(err, fs.ErrExist) {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		src, err := from.Lstat(name)
		if err != nil {
			return err
		}
		if src.Mode&unix.S_IFMT != unix.S_IFDIR || dst.Mode&unix.S_IFMT != unix.S_IFDIR {
			continue // the upper's entry wins
		}
		if err := mergeSub(from, to, name, &src, &dst); err != nil {
			return err
		}
	}
	return nil
}

func mergeSub(from, to *layer.Dir, name string, src, dst *unix.Stat_t) error {
	f, err := from.Sub(name, src)
	if err != nil {
		return err
	}
	defer f.Close()
	t, err := to.Sub(name, dst)
	if errors.Is(err, layer.ErrFileChanged) {
		return nil // no longer a directory: the upper's entry wins
	}
	if err != nil {
		return err
	}
	defer t.Close()
	return mergeDir(f, t)
}
