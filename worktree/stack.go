package worktree

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"slices"
	"time"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/tree"
)

// scanTrees returns the trees status compares the upper with: HEAD's
// (c) and the mount base's. Commits made on this mount (st.Stacked) are
// laid over the base's tree, so that 50 stacked commits cost 50 small
// index reads, not two whole trees.
func (w *Worktree) scanTrees(st State, c *objects.Commit) (head, base tree.Tree, err error) {
	if !st.Stacked || st.Base == st.Commit {
		head, err = w.baseTree(c)
		return head, head, err
	}
	bc, err := w.commit(st.Base)
	if err != nil {
		return nil, nil, err
	}
	if base, err = w.trees.Of(bc); err != nil {
		return nil, nil, err
	}
	bl, hl := bc.Layers(), c.Layers()
	if len(bl) > len(hl) || !slices.EqualFunc(bl, hl[:len(bl)], func(a, b objects.Layer) bool { return a.Desc.Digest == b.Desc.Digest }) {
		head, err = w.trees.Of(c) // not a descendant of the base (a reset moved it)
		return head, base, err
	}
	head = maps.Clone(base)
	for _, l := range hl[len(bl):] {
		entries, err := w.Repo.Objects.LayerIndex(l)
		if err != nil {
			return nil, nil, fmt.Errorf("status: file index of layer %s: %w", l.Desc.Digest, err)
		}
		head.Apply(entries)
	}
	return head, base, nil
}

// writeStackedLayer writes the layer of a commit made on a mount that
// already carries commits (State.Stacked): the upper holds everything
// since the mount base, so the layer is built from the changes against
// HEAD instead, read from the mounted view. Without deletions the view
// is written directly; with them, the changed paths are staged and the
// deletions become whiteouts there.
func (w *Worktree) writeStackedLayer(ctx context.Context, _ *objects.Commit, res *statusResult, mtime func(time.Time) time.Time) (objects.Layer, error) {
	exclude, whiteouts := viewChanges(res)
	if len(whiteouts) == 0 {
		return w.addLayer(ctx, w.target, layer.WriteOptions{Exclude: exclude, Mtime: mtime}, nil)
	}
	stage, err := os.MkdirTemp(w.Repo.Objects.TempDir(), "commit-")
	if err != nil {
		return objects.Layer{}, fmt.Errorf("commit: %w", err)
	}
	defer os.RemoveAll(stage)
	if err := w.stageView(ctx, exclude, whiteouts, stage); err != nil {
		return objects.Layer{}, fmt.Errorf("commit: %w", err)
	}
	return w.addLayer(ctx, stage, layer.WriteOptions{Overlay: true, Mtime: mtime}, nil)
}

// viewChanges says how to copy a scan's changes out of the mounted view
// as an overlay layer: exclude leaves out every path but the changed
// ones (all names of a file with several links, so that the copy keeps
// the link) and their parent directories; whiteouts are the topmost
// deletions.
func viewChanges(res *statusResult) (exclude func(p string, isDir bool) bool, whiteouts []string) {
	copyPaths, parents := map[string]bool{}, map[string]bool{}
	deleted := map[string]bool{}
	for _, ch := range res.changes {
		if ch.Kind == tree.Deleted {
			deleted[ch.Path] = true
		} else {
			copyPaths[ch.Path] = true
		}
		for d := path.Dir(ch.Path); d != "/"; d = path.Dir(d) {
			parents[d] = true
		}
	}
	for p := range copyPaths {
		if k, ok := res.ino[p]; ok {
			for _, q := range res.links[k] {
				copyPaths[q] = true
				for d := path.Dir(q); d != "/"; d = path.Dir(d) {
					parents[d] = true
				}
			}
		}
	}
	for _, ch := range res.changes {
		if ch.Kind == tree.TypeChg {
			deleted[ch.Path] = true // what replaces it hides what was below
		}
	}
	for _, ch := range res.changes {
		if ch.Kind == tree.Deleted && !deleted[path.Dir(ch.Path)] {
			whiteouts = append(whiteouts, ch.Path)
		}
	}
	exclude = func(p string, isDir bool) bool { return !copyPaths[p] && !(isDir && parents[p]) }
	return exclude, whiteouts
}

// stageView copies what exclude leaves of the mounted view into stage,
// an empty directory, and makes the whiteouts there.
func (w *Worktree) stageView(ctx context.Context, exclude func(string, bool) bool, whiteouts []string, stage string) error {
	pr, pw := io.Pipe()
	go func() {
		_, err := layer.WriteTar(ctx, w.target, pw, layer.WriteOptions{Exclude: exclude})
		pw.CloseWithError(err)
	}()
	err := layer.Unpack(ctx, pr, stage, layer.Apply)
	pr.CloseWithError(io.ErrClosedPipe)
	if err != nil {
		return fmt.Errorf("copy the work tree: %w", err)
	}
	return makeWhiteouts(stage, whiteouts)
}
