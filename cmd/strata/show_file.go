package main

import (
	"fmt"
	"io"
	"maps"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/tree"
)

// splitRevPath splits git's "REV:PATH", a path as REV has it ("HEAD:/etc/motd";
// the path is from the image root, with or without its leading slash, and
// an empty REV is HEAD). A digest's own "sha256:" is not the separator,
// and ":/TEXT" is git's search of commit messages, not HEAD's /TEXT.
func splitRevPath(arg string) (rev, p string, ok bool) {
	if strings.HasPrefix(arg, ":/") {
		return "", "", false
	}
	off := 0
	if strings.HasPrefix(arg, "sha256:") {
		off = len("sha256:")
	}
	i := strings.IndexByte(arg[off:], ':')
	if i < 0 {
		return "", "", false
	}
	rev, p = arg[:off+i], arg[off+i+1:]
	if rev == "" {
		rev = "HEAD"
	}
	return rev, path.Clean("/" + p), true
}

// fromHere is git's REV:./PATH and REV:../PATH: a path after the colon
// that starts with ./ or ../ is taken from the current directory, as
// diff's PATHs are (imagePaths); any other is from the image root, as
// splitRevPath reads it (p).
func fromHere(g *globals, r *repo.Repo, arg, p string) (string, error) {
	off := 0
	if strings.HasPrefix(arg, "sha256:") {
		off = len("sha256:") // as splitRevPath: not the separator
	}
	raw := arg[off+strings.IndexByte(arg[off:], ':')+1:]
	if raw != "." && raw != ".." && !strings.HasPrefix(raw, "./") && !strings.HasPrefix(raw, "../") {
		return p, nil
	}
	ps, err := imagePaths(g, r, []string{raw})
	if err != nil {
		return "", err
	}
	return ps[0], nil
}

// isRevPath says whether arg is REV:PATH.
func isRevPath(arg string) bool {
	_, _, ok := splitRevPath(arg)
	return ok
}

// showPath is "show REV:PATH", as git's: a file's content, a symlink's
// target, a directory's names (each directory's with a trailing /).
func showPath(w io.Writer, r *repo.Repo, arg, rev, p string) error {
	c, err := r.Resolve(rev)
	if err != nil {
		return err
	}
	// Only p, its ancestors and the names right below it are held, not
	// the whole tree below p (all of it for REV:/); a directory only a
	// path below it implies is one of them too (tree.Listing).
	prefix := strings.TrimSuffix(p, "/") + "/"
	t, err := tree.NewTrees(r.Objects).Listing(c, func(q string) bool {
		rel, ok := strings.CutPrefix(q, prefix)
		return q == p || strings.HasPrefix(p, q+"/") || ok && !strings.Contains(rel, "/")
	})
	if err != nil {
		return err
	}
	names := map[string]bool{} // name below p: a directory
	for q, qe := range t {
		if name, ok := strings.CutPrefix(q, prefix); ok && q != p {
			names[name] = qe.Type == layer.TypeDir
		}
	}
	e := t[p]
	if e == nil && p == "/" {
		e = &layer.Entry{Path: p, Type: layer.TypeDir}
	}
	if e == nil {
		return fmt.Errorf("%s: path %s does not exist in %s", arg, pathquote.Quote(p), rev)
	}
	switch tree.KindOf(e.Type) {
	case layer.TypeDir:
		fmt.Fprintf(w, "tree %s\n\n", arg)
		for _, name := range slices.Sorted(maps.Keys(names)) {
			if names[name] {
				name += "/"
			}
			fmt.Fprintln(w, pathquote.Quote(name))
		}
		return nil
	case layer.TypeSymlink:
		_, err := io.WriteString(w, e.Link)
		return err
	case layer.TypeFile:
		return tree.NewHistory(r.Objects).WriteFile(c.Layers(), p, e, filepath.Join(r.Root, "tmp"), w)
	}
	return fmt.Errorf("%s: %s is a %s: only a file, a directory or a symlink is shown", arg, pathquote.Quote(p), tree.TypeName(e.Type))
}
