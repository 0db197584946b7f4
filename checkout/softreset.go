package checkout

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
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
	told, err := w.trees.Of(old)
	if err != nil {
		return "", err
	}
	tnew, err := w.trees.Of(c)
	if err != nil {
		return "", err
	}
	copyPaths, parents := map[string]bool{}, map[string]bool{}
	var whiteouts []string
	for _, ch := range DiffTrees(tnew, told, nil) {
		if ch.Kind == Deleted {
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
	for _, p := range whiteouts {
		if tnew[path.Dir(p)] != nil && told[path.Dir(p)] == nil && path.Dir(p) != "/" {
			continue // its parent is whited out already
		}
		if err := unix.Mknod(filepath.Join(stage, p), unix.S_IFCHR|0o000, 0); err != nil && !errors.Is(err, fs.ErrExist) {
			os.RemoveAll(stage)
			return "", fmt.Errorf("reset --soft: whiteout %s: %w", p, err)
		}
	}
	return stage, nil
}

// mergeStaged moves what carryCommitted staged into the upper, keeping
// whatever the upper already has at a path (it is what the view showed).
func mergeStaged(stage, upper string) error {
	defer os.RemoveAll(stage)
	return mergeDir(stage, upper)
}

func mergeDir(from, to string) error {
	entries, err := os.ReadDir(from)
	if err != nil {
		return err
	}
	for _, e := range entries {
		src, dst := filepath.Join(from, e.Name()), filepath.Join(to, e.Name())
		fi, err := os.Lstat(dst)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := os.Rename(src, dst); err != nil {
				return fmt.Errorf("reset --soft: %w", err)
			}
		case err != nil:
			return err
		case fi.IsDir() && e.IsDir():
			if err := mergeDir(src, dst); err != nil {
				return err
			}
		}
	}
	return nil
}
