package tree

import (
	"fmt"
	"sort"
	"strings"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
)

// DiffTrees returns the changes from tree a to tree b in path order. With
// paths, only those paths and what lies below them are compared.
func DiffTrees(a, b Tree, paths []string) []Change {
	var out []Change
	for p, old := range a {
		if !Under(p, paths) {
			continue
		}
		nu := b[p]
		switch {
		case nu == nil:
			out = append(out, Change{Path: p, Kind: Deleted, Old: old})
		case KindOf(old.Type) != KindOf(nu.Type):
			out = append(out, Change{Path: p, Kind: TypeChg, Old: old, New: nu})
		case !SameEntry(old, nu):
			out = append(out, Change{Path: p, Kind: Modified, Old: old, New: nu})
		}
	}
	for p, nu := range b {
		if a[p] == nil && Under(p, paths) {
			out = append(out, Change{Path: p, Kind: Added, New: nu})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// DiffRevisions compares two commits (nil: the empty tree) by their file
// indexes, without unpacking a layer.
func DiffRevisions(ts *Trees, a, b *objects.Commit, paths []string) ([]Change, error) {
	ta, err := ts.Of(a)
	if err != nil {
		return nil, err
	}
	tb, err := ts.Of(b)
	if err != nil {
		return nil, err
	}
	return DiffTrees(ta, tb, paths), nil
}

// SameEntry reports whether two entries of the same kind describe the same
// file: mtimes aside, as in git, and a hardlink is the file it names.
func SameEntry(a, b *layer.Entry) bool {
	if KindOf(a.Type) != KindOf(b.Type) || a.Mode != b.Mode || a.UID != b.UID || a.GID != b.GID ||
		a.Xattrs != b.Xattrs || a.Link != b.Link && a.Type != layer.TypeHardlink && b.Type != layer.TypeHardlink ||
		a.Major != b.Major || a.Minor != b.Minor {
		return false
	}
	if KindOf(a.Type) == layer.TypeFile {
		return a.Size == b.Size && a.Digest == b.Digest
	}
	return true
}

// Under reports whether p is one of paths or below one, or matches one
// that is a pattern (pathspec.go); no paths: true.
func Under(p string, paths []string) bool {
	if len(paths) == 0 {
		return true
	}
	for _, q := range paths {
		q = strings.TrimSuffix(q, "/")
		if q == "" || p == q || strings.HasPrefix(p, q+"/") || IsGlob(q) && GlobMatch(q, p) {
			return true
		}
	}
	return false
}

// Details describes what changed about a path besides its content: type,
// mode, owner, link target, xattrs ("mode 0644 -> 0600").
func (c Change) Details() []string {
	o, n := c.Old, c.New
	if o == nil || n == nil {
		return nil
	}
	var out []string
	if KindOf(o.Type) != KindOf(n.Type) {
		out = append(out, fmt.Sprintf("type %s -> %s", TypeName(o.Type), TypeName(n.Type)))
	}
	if o.Mode != n.Mode {
		out = append(out, fmt.Sprintf("mode %04o -> %04o", o.Mode, n.Mode))
	}
	if o.UID != n.UID || o.GID != n.GID {
		out = append(out, fmt.Sprintf("owner %d:%d -> %d:%d", o.UID, o.GID, n.UID, n.GID))
	}
	if o.Type == layer.TypeSymlink && n.Type == layer.TypeSymlink && o.Link != n.Link {
		out = append(out, fmt.Sprintf("link %s -> %s", o.Link, n.Link))
	}
	if o.Xattrs != n.Xattrs {
		out = append(out, "xattrs")
	}
	if o.Major != n.Major || o.Minor != n.Minor {
		out = append(out, fmt.Sprintf("device %d:%d -> %d:%d", o.Major, o.Minor, n.Major, n.Minor))
	}
	return out
}

// TypeName is the word for an entry type: file, dir, symlink, ...
func TypeName(t layer.EntryType) string {
	switch t {
	case layer.TypeFile, layer.TypeHardlink:
		return "file"
	case layer.TypeDir:
		return "dir"
	case layer.TypeSymlink:
		return "symlink"
	case layer.TypeChar:
		return "char"
	case layer.TypeBlock:
		return "block"
	case layer.TypeFIFO:
		return "fifo"
	}
	return string(rune(t))
}
