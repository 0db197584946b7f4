package tree

import (
	"fmt"
	"path"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
)

// History answers per-path questions about commits (log -- PATH, blame)
// from the layers' file indexes, which it keeps parsed in memory.
type History struct {
	store   *objects.Store
	indexes map[digest.Digest]*parsedIndex
	trees   *Trees          // made when a merge's directories are compared
	parent  *objects.Commit // the parent Touches read last (Commit)
}

// NewHistory returns a History over store.
func NewHistory(store *objects.Store) *History {
	return &History{store: store, indexes: map[digest.Digest]*parsedIndex{}}
}

// parsedIndex is one layer's index by path.
type parsedIndex struct {
	entries []layer.Entry
	byPath  map[string]*layer.Entry // files, dirs, links... and whiteouts
	opaque  map[string]bool
}

func (h *History) index(l objects.Layer) (*parsedIndex, error) {
	d := l.Desc.Digest
	if pi := h.indexes[d]; pi != nil {
		return pi, nil
	}
	entries, err := h.store.LayerIndex(l)
	if err != nil {
		return nil, fmt.Errorf("file index of layer %s: %w", short(d.Encoded()), err)
	}
	pi := &parsedIndex{entries: entries, byPath: make(map[string]*layer.Entry, len(entries)), opaque: map[string]bool{}}
	for i := range entries {
		e := &entries[i]
		if e.Type == layer.TypeOpaque {
			pi.opaque[e.Path] = true
		} else {
			pi.byPath[e.Path] = e
		}
	}
	h.indexes[d] = pi
	return pi, nil
}

// Lookup returns the entry of p in a stack of layers (bottom first), or
// nil if it is absent, reading indexes from the top down only as far as
// needed.
func (h *History) Lookup(layers []objects.Layer, p string) (*layer.Entry, error) {
	for i := len(layers) - 1; i >= 0; i-- {
		pi, err := h.index(layers[i])
		if err != nil {
			return nil, err
		}
		if e := pi.byPath[p]; e != nil {
			if e.Type == layer.TypeWhiteout {
				return nil, nil
			}
			return e, nil
		}
		// A deleted, replaced or opaque ancestor, the root included, hides
		// everything below.
		for _, a := range ancestors(p) {
			if pi.opaque[a] {
				return nil, nil
			}
			if e := pi.byPath[a]; e != nil && e.Type != layer.TypeDir {
				return nil, nil
			}
		}
	}
	return nil, nil
}

// Changed reports whether commit c changed p or anything below it,
// compared with its parent (nil for a root commit): only the layers c
// added are read, and entries that merely repeat a directory are ignored.
func (h *History) Changed(c, parent *objects.Commit, p string) (bool, error) {
	if IsGlob(p) {
		return h.changedGlob(c, parent, p)
	}
	if parent != nil && !extends(c, parent) {
		return h.changedByTree(c, parent, p)
	}
	all, base := addedLayers(c, parent)
	below := all[:base]
	for _, l := range all[base:] {
		pi, err := h.index(l)
		if err != nil {
			return false, err
		}
		// A deleted or replaced ancestor changes p if p existed. An
		// opaque one may have been rebuilt with p as it was (rm -rf, then
		// the same files): the trees tell.
		for _, a := range ancestors(p) {
			e := pi.byPath[a]
			if pi.opaque[a] && parent != nil && (e == nil || e.Type == layer.TypeDir) {
				return h.changedByTree(c, parent, p)
			}
			if pi.opaque[a] || e != nil && e.Type != layer.TypeDir {
				if old, err := h.Lookup(below, p); err != nil || old != nil {
					return old != nil, err
				}
			}
		}
		for i := range pi.entries {
			e := &pi.entries[i]
			if !Under(e.Path, []string{p}) {
				continue
			}
			old, err := h.Lookup(below, e.Path)
			if err != nil {
				return false, err
			}
			switch {
			case e.Type == layer.TypeOpaque && old != nil && parent != nil:
				return h.changedByTree(c, parent, p)
			case e.Type == layer.TypeWhiteout || e.Type == layer.TypeOpaque:
				if old != nil {
					return true, nil
				}
			case old == nil || !SameEntry(old, e):
				return true, nil
			}
		}
		below = all[:len(below)+1]
	}
	return false, nil
}

// changedByTree reports whether p, or anything below it, differs between
// parent and c, from their trees: for a layer that made a directory
// opaque, whose entries alone cannot say what changed.
func (h *History) changedByTree(c, parent *objects.Commit, p string) (bool, error) {
	ec, err := h.Lookup(c.Layers(), p)
	if err != nil {
		return false, err
	}
	ep, err := h.Lookup(parent.Layers(), p)
	if err != nil {
		return false, err
	}
	switch {
	case ec == nil || ep == nil:
		return ec != ep, nil
	case ec.Type != layer.TypeDir || ep.Type != layer.TypeDir:
		return !SameEntry(ec, ep), nil
	}
	if !SameEntry(ec, ep) {
		return true, nil
	}
	changes, err := DiffRevisions(h.treeCache(), parent, c, []string{p})
	return len(changes) > 0, err
}

// addedLayers returns c's layers and the index of the first that c adds
// to its parent's (0 for a root commit, and when c's layers are not its
// parent's with more on top: then every layer may have changed a path,
// and only the trees can tell).
func addedLayers(c, parent *objects.Commit) ([]objects.Layer, int) {
	all := c.Layers()
	if parent == nil || !extends(c, parent) {
		return all, 0
	}
	return all, len(parent.Manifest.Layers)
}

// changedGlob is Changed for a pattern: the trees are compared where
// one of c's layers may have changed a match (mayChangeMatch).
func (h *History) changedGlob(c, parent *objects.Commit, q string) (bool, error) {
	all, base := addedLayers(c, parent)
	if ok, err := h.mayChangeMatch(all, base, q); !ok || err != nil {
		return false, err
	}
	changes, err := DiffRevisions(h.treeCache(), parent, c, []string{q})
	return len(changes) > 0, err
}

// mayChangeMatch reports whether a layer from all[base:] has an entry
// that matches q (Under: the path q names as it is, "/g[1]", too), or
// that may hide a path that does: a whiteout, an opaque mark or a file
// where the layers below have a directory.
func (h *History) mayChangeMatch(all []objects.Layer, base int, q string) (bool, error) {
	for i, l := range all[base:] {
		pi, err := h.index(l)
		if err != nil {
			return false, err
		}
		for j := range pi.entries {
			e := &pi.entries[j]
			if Under(e.Path, []string{q}) {
				return true, nil
			}
			if e.Type == layer.TypeDir {
				continue
			}
			old, err := h.Lookup(all[:base+i], e.Path)
			if err != nil {
				return false, err
			}
			if old != nil && old.Type == layer.TypeDir {
				return true, nil
			}
		}
	}
	return false, nil
}

// treeCache is the Trees a History compares whole trees with, made the
// first time one is needed.
func (h *History) treeCache() *Trees {
	if h.trees == nil {
		h.trees = NewTrees(h.store)
	}
	return h.trees
}

// Matches reports whether any path of commit c matches pattern q.
func (h *History) Matches(c *objects.Commit, q string) (bool, error) {
	t, err := h.treeCache().Of(c)
	if err != nil {
		return false, err
	}
	for p := range t {
		if GlobMatch(q, p) {
			return true, nil
		}
	}
	return false, nil
}

// ancestors returns the directories above p, nearest first, ending with
// the root.
func ancestors(p string) []string {
	var out []string
	if p == "/" {
		return nil
	}
	for a := path.Dir(p); ; a = path.Dir(a) {
		out = append(out, a)
		if a == "/" || a == "." {
			return out
		}
	}
}

// Blame is the commit that last changed a path.
type Blame struct {
	Path   string
	Commit *objects.Commit
}

// BlamePath returns the newest commit that changed p, walking back from
// head. p must exist in head. Through a merge it follows, as git does,
// the first parent whose p is the merge's (TREESAME): the change is
// blamed on the side that made it; a merge that matches no parent
// changed p itself.
func (h *History) BlamePath(head *objects.Commit, p string) (*objects.Commit, error) {
	if e, err := h.Lookup(head.Layers(), p); err != nil {
		return nil, err
	} else if e == nil {
		return nil, fmt.Errorf("%s: no such path in %s", p, short(head.ID.Encoded()))
	}
	c := head
	for {
		parents, err := h.presentParents(c)
		if err != nil {
			return nil, err
		}
		if len(parents) < 2 {
			var parent *objects.Commit
			if len(parents) == 1 {
				parent = parents[0]
			}
			changed, err := h.Changed(c, parent, p)
			if err != nil {
				return nil, err
			}
			if changed || parent == nil {
				return c, nil
			}
			c = parent
			continue
		}
		next, err := h.SameParent(c, parents, []string{p})
		if err != nil {
			return nil, err
		}
		if next == nil {
			return c, nil
		}
		c = next
	}
}

// presentParents reads c's parents that the store has, first parent
// first: a parent cut off by a shallow history is left out.
func (h *History) presentParents(c *objects.Commit) ([]*objects.Commit, error) {
	var out []*objects.Commit
	for _, pid := range c.Parents() {
		if !h.store.Has(pid) {
			continue
		}
		p, err := h.store.ReadCommit(pid)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// SameParent returns the first of parents (a merge's, first parent first)
// whose entries at and below paths are the merge's (git's TREESAME), or
// nil if the merge differs from every one.
func (h *History) SameParent(merge *objects.Commit, parents []*objects.Commit, paths []string) (*objects.Commit, error) {
	for _, p := range parents {
		same, err := h.Same(merge, p, paths)
		if err != nil {
			return nil, err
		}
		if same {
			return p, nil
		}
	}
	return nil, nil
}

// Same reports whether commits a and b have the same entries at and
// below each of paths. When a stacks layers on b's (b is a's first
// parent), only a's own layers are read; otherwise each path is looked up
// in both, and a directory in both is compared as a tree.
func (h *History) Same(a, b *objects.Commit, paths []string) (bool, error) {
	if extends(a, b) {
		for _, p := range paths {
			if changed, err := h.Changed(a, b, p); err != nil || changed {
				return false, err
			}
		}
		return true, nil
	}
	var dirs []string
	for _, p := range paths {
		ea, err := h.Lookup(a.Layers(), p)
		if err != nil {
			return false, err
		}
		eb, err := h.Lookup(b.Layers(), p)
		if err != nil {
			return false, err
		}
		switch {
		case ea == nil || eb == nil:
			if ea != eb {
				return false, nil
			}
		case ea.Type == layer.TypeDir && eb.Type == layer.TypeDir:
			dirs = append(dirs, p)
		case !SameEntry(ea, eb):
			return false, nil
		}
	}
	if len(dirs) == 0 {
		return true, nil
	}
	changes, err := DiffRevisions(h.treeCache(), b, a, dirs)
	return len(changes) == 0, err
}

// extends reports whether a's layers are b's with more on top.
func extends(a, b *objects.Commit) bool {
	la, lb := a.Manifest.Layers, b.Manifest.Layers
	if len(lb) > len(la) {
		return false
	}
	for i := range lb {
		if la[i].Digest != lb[i].Digest {
			return false
		}
	}
	return true
}

// Commit reads commit id, or is the parent Touches read last if that is
// id: a walk down a history asks for that commit next.
func (h *History) Commit(id digest.Digest) (*objects.Commit, error) {
	if h.parent != nil && h.parent.ID == id {
		return h.parent, nil
	}
	return h.store.ReadCommit(id)
}

// Touches reports whether commit c's own layers changed one of paths
// (absolute, clean), compared with its parent through the file indexes:
// log -- PATH. A parent cut off by a shallow history counts as empty.
func (h *History) Touches(c *objects.Commit, paths []string) (bool, error) {
	var parent *objects.Commit
	if pid := c.Parent(); pid != "" && h.store.Has(pid) {
		var err error
		if parent, err = h.Commit(pid); err != nil {
			return false, err
		}
		h.parent = parent
	}
	for _, p := range paths {
		if changed, err := h.Changed(c, parent, p); err != nil || changed {
			return changed, err
		}
	}
	return false, nil
}
