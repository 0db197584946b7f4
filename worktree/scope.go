package worktree

import (
	"context"
	"fmt"
	"maps"
	"path"
	"slices"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/merge"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/tree"
)

// opCache keeps what an operation reads again at every step: parsed
// layer indexes, and a History for per-path lookups.
type opCache struct {
	indexes map[digest.Digest][]layer.Entry
	hist    *tree.History
	// Commits composed but not stored yet, and their blobs: a run of
	// clean steps is stored at once, with one sync (flush).
	commits map[digest.Digest]*objects.Commit
	blobs   [][]byte
}

func (w *Worktree) cache() *opCache {
	if w.op == nil {
		w.op = &opCache{indexes: map[digest.Digest][]layer.Entry{}, hist: tree.NewHistory(w.Repo.Objects),
			commits: map[digest.Digest]*objects.Commit{}}
	}
	return w.op
}

func (w *Worktree) layerIndex(l objects.Layer) ([]layer.Entry, error) {
	c := w.cache()
	if e, ok := c.indexes[l.Desc.Digest]; ok {
		return e, nil
	}
	e, err := w.Repo.Objects.LayerIndex(l)
	if err != nil {
		return nil, err
	}
	c.indexes[l.Desc.Digest] = e
	return e, nil
}

// scopedInput returns the merge's three trees cut down to the paths that
// theirs' own layers (those base lacks) touch, with their ancestors: the
// only paths where theirs changed anything, so the only ones a merge
// must decide. Work then follows the size of the change, not of the
// tree. ok is false where that does not hold, and the whole trees are
// needed: theirs lacks some of base's layers, or a layer of theirs
// deletes, hides or replaces a directory (its whole content is at stake).
func (w *Worktree) scopedInput(base, ours, theirs *objects.Commit) (merge.Input, bool, error) {
	if base == nil {
		return merge.Input{}, false, nil
	}
	inTheirs := map[digest.Digest]bool{}
	for _, l := range theirs.Layers() {
		inTheirs[l.Desc.Digest] = true
	}
	inBase := map[digest.Digest]bool{}
	for _, l := range base.Layers() {
		if !inTheirs[l.Desc.Digest] {
			return merge.Input{}, false, nil
		}
		inBase[l.Desc.Digest] = true
	}
	h := w.cache().hist
	bl, ol, tl := base.Layers(), ours.Layers(), theirs.Layers()
	isDir := func(layers []objects.Layer, p string) (bool, error) {
		e, err := h.Lookup(layers, p)
		return e != nil && e.Type == layer.TypeDir, err
	}
	scope := map[string]bool{}
	for _, l := range tl {
		if inBase[l.Desc.Digest] {
			continue
		}
		entries, err := w.layerIndex(l)
		if err != nil {
			return merge.Input{}, false, err
		}
		for i := range entries {
			e := &entries[i]
			if e.Type != layer.TypeDir {
				// Whatever lay below a deleted, opaque or replaced
				// directory is at stake too: not a small scope.
				for _, ls := range [][]objects.Layer{bl, ol} {
					if d, err := isDir(ls, e.Path); err != nil || d {
						return merge.Input{}, false, err
					}
				}
			}
			for p := e.Path; !scope[p]; p = path.Dir(p) {
				scope[p] = true
				if p == "/" || p == "." {
					break
				}
			}
		}
	}
	in := merge.Input{Base: tree.Tree{}, Ours: tree.Tree{}, Theirs: tree.Tree{}}
	for p := range scope {
		for _, side := range []struct {
			t      tree.Tree
			layers []objects.Layer
		}{{in.Base, bl}, {in.Ours, ol}, {in.Theirs, tl}} {
			e, err := h.Lookup(side.layers, p)
			if err != nil {
				return merge.Input{}, false, err
			}
			if e != nil {
				side.t[p] = e
			}
		}
	}
	return in, true, nil
}

// opCommit reads commit id, composed by this operation or stored.
func (w *Worktree) opCommit(id digest.Digest) (*objects.Commit, error) {
	if c := w.cache().commits[id]; c != nil {
		return c, nil
	}
	return w.commit(id)
}

// flush stores the commits composed since the last flush: before the
// sequence file may name them.
func (w *Worktree) flush(ctx context.Context) error {
	c := w.cache()
	if len(c.blobs) == 0 {
		return nil
	}
	if _, err := w.Repo.Objects.PutAllBytes(ctx, c.blobs, 4); err != nil {
		return fmt.Errorf("store commits: %w", err)
	}
	w.Repo.Objects.NoteCommits(slices.Collect(maps.Values(c.commits))...)
	c.blobs = nil
	clear(c.commits)
	return nil
}
