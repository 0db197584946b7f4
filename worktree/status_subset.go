package worktree

import (
	"errors"
	"fmt"
	"strings"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/tree"
	"golang.org/x/sys/unix"
)

// maxTouched is the size of an upper past which status reads the whole
// base tree: a subset as large as the tree would cost more than the map.
var maxTouched = 1 << 17 // a var for the test that compares both ways

// baseTree is the part of commit c's tree that a scan of the upper looks
// up (issue 15: a million-file tree with a thousand changes costs the
// thousand, not the million): every path of the upper, and everything
// below its whiteouts, its non-directories (which may replace a
// directory), its opaque and its redirected directories. An upper of
// more than maxTouched names reads the whole tree.
func (w *Worktree) baseTree(c *objects.Commit) (tree.Tree, error) {
	t := &touched{paths: map[string]bool{"/": true}, below: map[string]bool{}, buf: make([]byte, 4096)}
	up, err := layer.OpenDir(w.upper())
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	err = t.walk("", up)
	up.Close()
	if errors.Is(err, errTooMany) {
		return w.trees.Of(c)
	}
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	sub, err := w.trees.Subset(c, t.keep)
	if err != nil {
		return nil, err
	}
	for _, e := range sub {
		if e.Type == layer.TypeHardlink && sub[e.Link] == nil {
			// The scan compares a link with the file it names, which
			// may lie outside the subset: rare, so read it all.
			return w.trees.Of(c)
		}
	}
	return sub, nil
}

var errTooMany = errors.New("upper too large for a subset")

type touched struct {
	paths map[string]bool // paths of the upper
	below map[string]bool // paths whose whole lower subtree is wanted
	buf   []byte
}

func (t *touched) walk(rel string, d *layer.Dir) error {
	names, err := d.Names()
	if err != nil {
		return err
	}
	for _, name := range names {
		p := rel + "/" + name
		if len(t.paths) >= maxTouched {
			return errTooMany
		}
		t.paths[p] = true
		st, err := d.Lstat(name)
		if err != nil {
			return err
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			t.below[p] = true
			continue
		}
		ue, err := layer.ClassifyStat(d, name, &st, true, t.buf)
		if err != nil || ue.Class != layer.Content {
			// A reserved name fails the scan itself; want all below.
			t.below[p] = true
			continue
		}
		sub, err := d.Sub(name, &st)
		if err != nil {
			return err
		}
		err = t.walk(p, sub)
		sub.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// keep accepts the upper's paths and what lies below the subtrees wanted
// whole; the upper's paths include their ancestors, as Subset needs.
func (t *touched) keep(p string) bool {
	if t.paths[p] {
		return true
	}
	if len(t.below) == 0 {
		return false
	}
	for q := p; ; {
		i := strings.LastIndexByte(q, '/')
		if i <= 0 {
			return false
		}
		q = q[:i]
		if t.below[q] {
			return true
		}
	}
}
