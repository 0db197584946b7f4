package layer

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// Overlay xattrs, in both the trusted. and (mount option userxattr) the
// user. namespace.
func isOpaque(xs []xattr) bool {
	for _, p := range []string{"trusted.", "user."} {
		if v, ok := lookup(xs, p+"overlay.opaque"); ok && v == "y" {
			return true
		}
	}
	return false
}

func redirect(xs []xattr) (string, bool) {
	for _, p := range []string{"trusted.", "user."} {
		if v, ok := lookup(xs, p+"overlay.redirect"); ok {
			return v, true
		}
	}
	return "", false
}

// layerDir is one directory of an overlay stack at some path.
type layerDir struct {
	path  string
	upper bool // in the upper directory: its redirects are followed
}

// walkMerged writes the merged view of stack (topmost first) as the
// content of rel. It serves directories renamed with redirect_dir=on,
// whose entries are spread over the upper and the lowers. The caller has
// made rel opaque, so hidden names need no whiteouts.
func (t *tarWriter) walkMerged(rel string, stack []layerDir) error {
	var names []string
	for _, d := range stack {
		n, err := readNames(d.path)
		if err != nil {
			return err
		}
		names = append(names, n...)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	for _, name := range names {
		if err := t.ctx.Err(); err != nil {
			return err
		}
		crel := path.Join(rel, name)
		top, child, err := t.lookup(stack, name)
		if err != nil {
			return fmt.Errorf("%s: %w", crel, err)
		}
		if top == nil {
			continue // whited out
		}
		isDir := top.st.Mode&unix.S_IFMT == unix.S_IFDIR
		if t.opts.Exclude != nil && t.opts.Exclude("/"+crel, isDir) {
			continue
		}
		if err := t.emit(crel, top.path, &top.st, top.xs); err != nil {
			return err
		}
		if isDir {
			if err := t.walkMerged(crel, child); err != nil {
				return err
			}
		}
	}
	return nil
}

type found struct {
	path string
	st   unix.Stat_t
	xs   []xattr
}

// lookup finds name in a directory stack as overlayfs does: the topmost
// entry wins, a whiteout hides it, and a directory merges with the
// directories below it down to the first opaque one.
func (t *tarWriter) lookup(stack []layerDir, name string) (*found, []layerDir, error) {
	var top *found
	var child []layerDir
	for i, d := range stack {
		p := d.path + "/" + name
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
			continue
		} else if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", p, err)
		}
		isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
		if top != nil && !isDir {
			break // a file below a directory is hidden, and so is all under it
		}
		if isWhiteout(&st) {
			break
		}
		xs, err := lxattrs(p, t.xbuf)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", p, err)
		}
		if top == nil {
			top = &found{path: p, st: st, xs: xs}
			if !isDir {
				break
			}
		}
		child = append(child, layerDir{p, d.upper})
		if isOpaque(xs) {
			break
		}
		if target, ok := redirect(xs); ok && d.upper {
			var lowerParent []layerDir
			for _, l := range stack[i+1:] {
				if !l.upper {
					lowerParent = append(lowerParent, l)
				}
			}
			lower, err := t.redirectStack(target, "", lowerParent, true)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", p, err)
			}
			child = append(child, lower...)
			break
		}
	}
	return top, child, nil
}

// redirectStack returns the lower directories a redirected directory
// merges with. An absolute target is a path from the overlay root; a
// relative one is a name in the parent's lower directories (parentStack if
// haveParent, else those at parentRel).
func (t *tarWriter) redirectStack(target, parentRel string, parentStack []layerDir, haveParent bool) ([]layerDir, error) {
	if len(t.opts.Lowers) == 0 {
		return nil, ErrRedirectNeedsLowers
	}
	var comps []string
	stack := parentStack
	if strings.HasPrefix(target, "/") {
		comps, stack = strings.Split(strings.Trim(target, "/"), "/"), t.lowerRoots()
	} else if haveParent {
		comps = []string{target}
	} else {
		stack = t.lowerRoots()
		if parentRel != "" {
			comps = strings.Split(parentRel, "/")
		}
		comps = append(comps, target)
	}
	for _, c := range comps {
		if c == "" || c == "." || c == ".." || strings.Contains(c, "/") {
			return nil, fmt.Errorf("bad overlay redirect %q: %w", target, fs.ErrInvalid)
		}
		top, child, err := t.lookup(stack, c)
		if err != nil {
			return nil, err
		}
		if top == nil || top.st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return nil, nil
		}
		stack = child
	}
	return stack, nil
}

func (t *tarWriter) lowerRoots() []layerDir {
	out := make([]layerDir, len(t.opts.Lowers))
	for i, l := range t.opts.Lowers {
		out[i] = layerDir{path: l}
	}
	return out
}
