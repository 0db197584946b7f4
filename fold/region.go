package fold

import (
	"strings"

	"github.com/strata-sh/strata/objects/layer"
)

// region is where a run of layers can change the tree below it: the
// paths its entries name, with every directory above them, and all that
// lies below a path where it hides what is under it (a whiteout, an
// opaque directory, or a name that is no directory, which hides a
// directory of that name below).
type region struct {
	all   bool            // an opaque root: the run hides everything
	named map[string]bool // named paths and their directories
	hides map[string]bool // paths whose lower content the run may hide
}

// regionOf is the region of the run, given as its layers' indexes.
func regionOf(run [][]layer.Entry) *region {
	r := &region{named: map[string]bool{"/": true}, hides: map[string]bool{}}
	for _, entries := range run {
		for i := range entries {
			e := &entries[i]
			if e.Type != layer.TypeDir {
				if e.Path == "/" {
					r.all = true
				}
				r.hides[e.Path] = true
			}
			for p := e.Path; !r.named[p]; p = parent(p) {
				r.named[p] = true
			}
		}
	}
	return r
}

// keep reports whether p is in the region. It keeps every directory
// above a path it keeps, as tree.OfLayersWithin needs.
func (r *region) keep(p string) bool {
	if r.all || r.named[p] {
		return true
	}
	for i := strings.LastIndexByte(p, '/'); i > 0; i = strings.LastIndexByte(p[:i], '/') {
		if r.hides[p[:i]] {
			return true
		}
	}
	return false
}

// parent is the directory above p ("/" above a name at the root).
func parent(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}
