package tree

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/strata-sh/strata/internal/atomicfile"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
)

// Tree is the file map of a revision: every path its layers leave visible,
// with the index entry of the layer that last wrote it. It is computed
// from the layers' file indexes, never by unpacking.
type Tree map[string]*layer.Entry

// Apply adds one layer's index on top of t: its whiteouts and opaque
// directories hide what lies below, then its entries replace or add.
func (t Tree) Apply(entries []layer.Entry) {
	gone := map[string]bool{} // directories whose lower content goes
	for i := range entries {
		e := &entries[i]
		switch e.Type {
		case layer.TypeWhiteout:
			// A file has nothing below it: only a directory, or a name
			// the tree lacks (a tar may name a file but not its
			// directory), can hide more than itself.
			if old := t[e.Path]; old == nil || old.Type == layer.TypeDir {
				gone[e.Path] = true
			}
			delete(t, e.Path)
		case layer.TypeOpaque:
			gone[e.Path] = true
		default:
			if old := t[e.Path]; old != nil && old.Type == layer.TypeDir && e.Type != layer.TypeDir {
				gone[e.Path] = true
			}
		}
	}
	switch {
	case gone["/"]:
		// An opaque root hides every lower entry: the layer starts afresh.
		clear(t)
	case len(gone) > 0:
		t.dropBelow(gone)
	}
	for i := range entries {
		if e := &entries[i]; e.Type != layer.TypeWhiteout && e.Type != layer.TypeOpaque {
			t[e.Path] = e
		}
	}
}

// dropBelow deletes every entry below a directory of gone: one pass over
// the tree, each path tested against the few directories a layer hides
// (a prefix test each), or, when a layer hides many, its ancestors
// looked up.
func (t Tree) dropBelow(gone map[string]bool) {
	if len(gone) > 8 {
		for p := range t {
			for a := path.Dir(p); a != "/" && a != "."; a = path.Dir(a) {
				if gone[a] {
					delete(t, p)
					break
				}
			}
		}
		return
	}
	prefixes := make([]string, 0, len(gone))
	for g := range gone {
		prefixes = append(prefixes, g+"/")
	}
	for p := range t {
		for _, g := range prefixes {
			if strings.HasPrefix(p, g) {
				delete(t, p)
				break
			}
		}
	}
}

// Sorted returns the paths of t in order.
func (t Tree) Sorted() []string {
	out := make([]string, 0, len(t))
	for p := range t {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// CacheGroup is where Trees cuts a long chain: the map of the prefix below
// the highest multiple of CacheGroup is cached, so that a deep history costs
// at most CacheGroup index reads and the next commits reuse the same cache.
// (The snapshot package flattens at the same multiple for the same reason;
// nothing depends on the two agreeing.)
const CacheGroup = 64

// Trees reads revisions' file maps, caching the map of long chains'
// prefixes (.strata/snapshots/tree-v2-<chain id>.index) so that a deep history
// costs at most CacheGroup index reads.
type Trees struct {
	store *objects.Store
	dir   string
}

// NewTrees returns a tree reader over store.
func NewTrees(store *objects.Store) *Trees {
	return &Trees{store: store, dir: filepath.Join(store.Root(), "snapshots")}
}

// Of returns the tree of commit c (nil: the empty tree).
func (ts *Trees) Of(c *objects.Commit) (Tree, error) {
	return ts.OfLayers(c.Layers())
}

// OfLayers returns the tree of layers, bottom first.
func (ts *Trees) OfLayers(layers []objects.Layer) (Tree, error) {
	return ts.ofLayers(layers, nil)
}

// OfLayersWithin is OfLayers with only the paths keep keeps. keep must
// keep every directory above a path it keeps; the result is then
// OfLayers' less every other path. It reads what OfLayers reads but
// holds only that region: a fold needs the tree below its run only
// where the run writes (package fold). Whiteouts and opaque markers
// apply whatever keep says, since what they hide may be kept.
func (ts *Trees) OfLayersWithin(layers []objects.Layer, keep func(path string) bool) (Tree, error) {
	return ts.ofLayers(layers, keep)
}

func (ts *Trees) ofLayers(layers []objects.Layer, keep func(string) bool) (Tree, error) {
	var t Tree
	apply := func(entries []layer.Entry) {
		if keep != nil {
			entries = within(entries, keep)
		}
		if t == nil {
			// Sized by the first (usually the largest) index: a growing
			// map of a million entries peaks at twice its size.
			t = make(Tree, len(entries))
		}
		t.Apply(entries)
	}
	start := 0
	if len(layers) > CacheGroup {
		cut := (len(layers) - 1) / CacheGroup * CacheGroup
		chain := objects.ChainIDs(layers[:cut])
		// v2: trees cached before an opaque root hid the lowers are stale.
		cache := filepath.Join(ts.dir, "tree-v2-"+chain[cut-1].Encoded()+".index")
		if entries, err := readIndexFile(cache); err == nil {
			apply(entries)
		} else {
			for _, l := range layers[:cut] {
				entries, err := ts.index(l)
				if err != nil {
					return nil, err
				}
				apply(entries)
			}
			if t == nil {
				t = Tree{}
			}
			if keep == nil { // a region is no prefix's tree
				if err := ts.save(cache, t); err != nil {
					return nil, err
				}
			}
		}
		start = cut
	}
	for _, l := range layers[start:] {
		entries, err := ts.index(l)
		if err != nil {
			return nil, err
		}
		apply(entries)
	}
	if t == nil {
		t = Tree{}
	}
	return t, nil
}

// within is entries less those keep leaves out; whiteouts and opaque
// markers stay.
func within(entries []layer.Entry, keep func(string) bool) []layer.Entry {
	out := make([]layer.Entry, 0, len(entries)/8)
	for _, e := range entries {
		if e.Type == layer.TypeWhiteout || e.Type == layer.TypeOpaque || keep(e.Path) {
			out = append(out, e)
		}
	}
	return out
}

func (ts *Trees) index(l objects.Layer) ([]layer.Entry, error) {
	entries, err := ts.store.LayerIndex(l)
	if err != nil {
		return nil, fmt.Errorf("file index of layer %s: %w", short(l.Desc.Digest.Encoded()), err)
	}
	return entries, nil
}

func (ts *Trees) save(name string, t Tree) error {
	entries := make([]layer.Entry, 0, len(t))
	for _, p := range t.Sorted() {
		entries = append(entries, *t[p])
	}
	if err := os.MkdirAll(ts.dir, 0o700); err != nil {
		return fmt.Errorf("cache tree: %w", err)
	}
	var buf bytes.Buffer
	if err := layer.EncodeIndex(&buf, entries); err != nil {
		return fmt.Errorf("cache tree: %w", err)
	}
	if err := atomicfile.Write(ts.store.TempDir(), name, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("cache tree: %w", err)
	}
	return nil
}

func readIndexFile(name string) ([]layer.Entry, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return layer.DecodeIndex(f)
}

// Prune drops every cached tree: they are cheap to rebuild. gc calls it
// (through the work trees' prune) after it removed blobs.
func (ts *Trees) Prune() error {
	names, err := filepath.Glob(filepath.Join(ts.dir, "tree-*.index"))
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := os.Remove(n); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

func short(hex string) string {
	if len(hex) > 12 {
		return hex[:12]
	}
	return hex
}
