package worktree

import (
	"context"
	"io"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/tree"
)

// WorkTree returns the file map of the work tree as it is now: its base
// commit's tree with the uncommitted changes laid over it (content digests
// of changed files included), and the base commit.
func (w *Worktree) WorkTree(ctx context.Context) (tree.Tree, *objects.Commit, error) {
	unlock, err := w.lock(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer unlock()
	st, err := w.ensure(ctx)
	if err != nil {
		return nil, nil, err
	}
	changes, err := w.scanChanges(ctx, st)
	if err != nil {
		return nil, nil, err
	}
	base, err := w.commit(st.Commit)
	if err != nil {
		return nil, nil, err
	}
	t, err := w.trees.Of(base)
	if err != nil {
		return nil, nil, err
	}
	for _, c := range changes {
		if c.New == nil {
			delete(t, c.Path)
			continue
		}
		if tree.KindOf(c.New.Type) == layer.TypeFile && c.New.Digest == "" {
			if c.New.Digest, err = treeFileDigest(w.target, c.Path); err != nil {
				return nil, nil, err
			}
		}
		t[c.Path] = c.New
	}
	return t, base, nil
}

// BaseCommit is the commit the work tree's upper applies to (nil on an
// unborn branch), mounting the work tree if needed.
func (w *Worktree) BaseCommit(ctx context.Context) (*objects.Commit, error) {
	st, err := w.Ensure(ctx)
	if err != nil {
		return nil, err
	}
	return w.commit(st.Commit)
}

// Trees returns the work tree's tree reader.
func (w *Worktree) Trees() *tree.Trees { return w.trees }

// ReadWorkFile reads a file of the mounted work tree for a patch.
func ReadWorkFile(w *Worktree, p string, e *layer.Entry) ([]byte, error) {
	if e == nil || tree.KindOf(e.Type) != layer.TypeFile || e.Size > tree.MaxPatchSize {
		return nil, nil
	}
	f, err := openInTree(w.target, p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, tree.MaxPatchSize+1))
}
