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

// layerDir is one directory of an overlay stack at some path.
type layerDir struct {
	d     *Dir
	upper bool // in the upper directory: its redirects are followed
}

func closeStack(s []layerDir) {
	for _, l := range s {
		l.d.Close()
	}
}

// walkMerged writes the merged view of stack (topmost first) as the
// content of rel. It serves directories renamed with redirect_dir=on,
// whose entries are spread over the upper and the lowers. The caller has
// made rel opaque, so hidden names need no whiteouts.
func (t *tarWriter) walkMerged(rel string, stack []layerDir) error {
	var names []string
	for _, l := range stack {
		n, err := l.d.Names()
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
		if err := t.mergedEntry(path.Join(rel, name), stack, name); err != nil {
			return err
		}
	}
	return nil
}

func (t *tarWriter) mergedEntry(crel string, stack []layerDir, name string) error {
	top, child, err := t.lookup(stack, name)
	defer closeStack(child)
	if err != nil {
		return fmt.Errorf("/%s: %w", crel, err)
	}
	if top == nil {
		return nil // whited out
	}
	isDir := top.e.IsDir()
	if t.opts.Exclude != nil && t.opts.Exclude("/"+crel, isDir) {
		return nil
	}
	if err := t.emit(crel, top.dir, &top.e, nil); err != nil {
		return err
	}
	if isDir {
		return t.walkMerged(crel, child)
	}
	return nil
}

type found struct {
	dir *Dir // the parent: owned by the stack
	e   UpperEntry
}

// lookup finds name in a directory stack as overlayfs does: the topmost
// entry wins, a whiteout hides it, and a directory merges with the
// directories below it down to the first opaque one. The returned stack
// is the caller's to close, even with an error.
func (t *tarWriter) lookup(stack []layerDir, name string) (*found, []layerDir, error) {
	var top *found
	var child []layerDir
	for i, l := range stack {
		e, err := Classify(l.d, name, true, t.xbuf)
		if errors.Is(err, ErrReservedName) {
			return nil, child, err // the caller names the path
		}
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
			continue
		} else if err != nil {
			return nil, child, err
		}
		isDir := e.IsDir()
		if top != nil && !isDir {
			break // a file below a directory is hidden, and so is all under it
		}
		if e.Class == Whiteout {
			break
		}
		if top == nil {
			top = &found{dir: l.d, e: e}
			if !isDir {
				break
			}
		}
		sub, err := l.d.Sub(name, &e.St)
		if err != nil {
			return nil, child, err
		}
		child = append(child, layerDir{sub, l.upper})
		if e.Class == Opaque {
			break
		}
		if e.Class == Redirect && l.upper {
			var lowerParent []layerDir
			for _, below := range stack[i+1:] {
				if !below.upper {
					lowerParent = append(lowerParent, below)
				}
			}
			lower, err := t.redirectStack(e.Redirect, "", lowerParent, true)
			child = append(child, lower...)
			if err != nil {
				return nil, child, err
			}
			break
		}
	}
	return top, child, nil
}

// redirectStack returns the lower directories a redirected directory
// merges with, for the caller to close. An absolute target is a path from
// the overlay root; a relative one is a name in the parent's lower
// directories (parentStack if haveParent, else those at parentRel).
func (t *tarWriter) redirectStack(target, parentRel string, parentStack []layerDir, haveParent bool) ([]layerDir, error) {
	if len(t.opts.Lowers) == 0 {
		return nil, ErrRedirectNeedsLowers
	}
	var comps []string
	stack, owned := parentStack, false
	if strings.HasPrefix(target, "/") {
		comps = strings.Split(strings.Trim(target, "/"), "/")
	} else if haveParent {
		comps = []string{target}
	} else {
		if parentRel != "" {
			comps = strings.Split(parentRel, "/")
		}
		comps = append(comps, target)
	}
	if !haveParent || strings.HasPrefix(target, "/") {
		roots, err := t.lowerRoots()
		if err != nil {
			return nil, err
		}
		stack, owned = roots, true
	}
	release := func() {
		if owned {
			closeStack(stack)
		}
	}
	for _, c := range comps {
		if c == "" || c == "." || c == ".." || strings.Contains(c, "/") {
			release()
			return nil, fmt.Errorf("bad overlay redirect %q: %w", target, fs.ErrInvalid)
		}
		top, child, err := t.lookup(stack, c)
		release()
		stack, owned = child, true
		if err != nil {
			release()
			return nil, err
		}
		if top == nil || !top.e.IsDir() {
			release()
			return nil, nil
		}
	}
	return stack, nil
}

// inLowers reports whether the lowers alone show rel ("a/b"), as
// overlayfs would merge them.
func (t *tarWriter) inLowers(rel string) (bool, error) {
	if len(t.opts.Lowers) == 0 {
		return false, nil
	}
	stack, err := t.lowerRoots()
	if err != nil {
		return false, err
	}
	comps := strings.Split(rel, "/")
	for i, c := range comps {
		top, child, err := t.lookup(stack, c)
		closeStack(stack)
		stack = child
		if err != nil || top == nil || i < len(comps)-1 && !top.e.IsDir() {
			closeStack(stack)
			return false, err
		}
	}
	closeStack(stack)
	return true, nil
}

// lowerRoots returns the roots of the lowers, opened for the caller.
func (t *tarWriter) lowerRoots() ([]layerDir, error) {
	if t.lowers == nil {
		for _, l := range t.opts.Lowers {
			d, err := OpenDir(l)
			if err != nil {
				return nil, err
			}
			t.lowers = append(t.lowers, d)
		}
	}
	out := make([]layerDir, 0, len(t.lowers))
	for _, l := range t.lowers {
		fd, err := unix.FcntlInt(uintptr(l.fd), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			closeStack(out)
			return nil, fmt.Errorf("dup %s: %w", l.path, err)
		}
		out = append(out, layerDir{&Dir{fd: fd, path: l.path}, false})
	}
	return out, nil
}

func (t *tarWriter) closeLowers() {
	for _, l := range t.lowers {
		l.Close()
	}
}
