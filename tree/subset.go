package tree

import (
	"fmt"
	"os"
	"path"
	"path/filepath"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
)

// Subset returns the entries of commit c's tree whose paths keep accepts,
// as Of would give them, reading each index line by line and holding only
// what it keeps (issue 15: status on a million files looks up the few the
// upper touched). keep must accept the ancestors of every path it accepts,
// so that a file replacing a directory still takes the kept children with
// it. Whiteouts and opaque directories are always read: they hide what
// lies below whatever keep says.
func (ts *Trees) Subset(c *objects.Commit, keep func(string) bool) (Tree, error) {
	layers := c.Layers()
	want := func(e *layer.Entry) bool {
		return e.Type == layer.TypeWhiteout || e.Type == layer.TypeOpaque || keep(e.Path)
	}
	t := Tree{}
	start := 0
	if len(layers) > CacheGroup {
		cut := (len(layers) - 1) / CacheGroup * CacheGroup
		chain := objects.ChainIDs(layers[:cut])
		cache := filepath.Join(ts.dir, "tree-v2-"+chain[cut-1].Encoded()+".index")
		entries, err := readIndexFunc(cache, want)
		if err != nil {
			// No cached prefix yet (or a bad one): build and cache the
			// whole tree once, as Of does.
			full, err := ts.OfLayers(layers)
			if err != nil {
				return nil, err
			}
			for p, e := range full {
				if !want(e) {
					delete(full, p)
				}
			}
			return full, nil
		}
		t.Apply(entries)
		start = cut
	}
	for _, l := range layers[start:] {
		entries, err := ts.store.LayerIndexFunc(l, want)
		if err != nil {
			return nil, fmt.Errorf("file index of layer %s: %w", short(l.Desc.Digest.Encoded()), err)
		}
		t.Apply(entries)
	}
	return t, nil
}

func readIndexFunc(name string, keep func(*layer.Entry) bool) ([]layer.Entry, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return layer.DecodeIndexFunc(f, keep)
}

// Listing is Subset with the directories the layers imply but do not
// name (a tar made by "tar -cf a.tar bin/a" has no "bin"): a path keep
// accepts that lies above a path of the tree is an entry of its own, a
// directory with mode 0755 and owner 0:0. Those above what Subset kept
// are seen there; those above only what keep leaves out (REV:/ lists
// "bin", implied by "/bin/a" alone) take a second read of the indexes,
// which holds only what lies below them. Listings of a directory (show
// REV:DIR, ls-tree) read trees so.
func (ts *Trees) Listing(c *objects.Commit, keep func(string) bool) (Tree, error) {
	t, err := ts.Subset(c, keep)
	if err != nil {
		return nil, err
	}
	implied := func(a string) *layer.Entry { return &layer.Entry{Path: a, Type: layer.TypeDir, Mode: 0o755} }
	for q := range t {
		for a := path.Dir(q); a != "/" && a != "."; a = path.Dir(a) {
			if t[a] == nil && keep(a) {
				t[a] = implied(a)
			}
		}
	}
	missing := func(q string) bool { return t[q] == nil && keep(q) }
	// Below a missing directory: what the first read left out. The
	// directories the first read found are read again, so that one a
	// later layer replaced (by a file, then a directory) takes what lay
	// below it along, as Subset needs; whiteouts and opaque directories
	// are read whatever keep says.
	below, err := ts.Subset(c, func(q string) bool {
		if e := t[q]; e != nil && e.Type == layer.TypeDir {
			return true
		}
		for a := path.Dir(q); a != "/" && a != "."; a = path.Dir(a) {
			if missing(a) {
				return true
			}
		}
		return false
	})
	if err != nil {
		return nil, err
	}
	for q := range below {
		var gone []string // missing directories above q, nearest first
		for a := path.Dir(q); a != "/" && a != "."; a = path.Dir(a) {
			if e := t[a]; e != nil && KindOf(e.Type) != layer.TypeDir {
				gone = nil // a file above q: q is not there
				break
			}
			if missing(a) {
				gone = append(gone, a)
			}
		}
		for _, a := range gone {
			t[a] = implied(a)
		}
	}
	return t, nil
}
