package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/tree"
	"github.com/strata-sh/strata/worktree"
)

// errNoPaths is what a command returns, after printing what the good
// paths gave, when some PATH matched nothing in either revision.
var errNoPaths = errors.New("did not match any file")

// imagePaths turns PATH arguments as the user typed them into absolute
// paths in the image, as git resolves pathspecs from where you stand:
//
//   - "/etc/issue" is absolute in the image;
//   - a relative path is taken from the current directory (or -C) when
//     that lies inside a work tree: in <project>/rootfs/etc, "issue" is
//     /etc/issue, and from the project root "rootfs/etc/issue" is too;
//   - a relative path from anywhere else is read from the image root
//     ("etc/issue" is /etc/issue), as before;
//   - "" is a usage error, as in git: "/" is the whole tree; so is a
//     relative path that leads out of the work tree you stand in.
//
// It is the one resolver of diff, log, blame and show.
func imagePaths(g *globals, r *repo.Repo, args []string) ([]string, error) {
	if len(args) == 0 {
		return nil, nil
	}
	start := g.chdir
	if start == "" {
		start = "."
	}
	cwd, err := filepath.Abs(start)
	if err != nil {
		return nil, err
	}
	targets := worktreeTargets(r)
	here := holdingTree(targets, realPath(cwd)) // the work tree we stand in, if any
	out := make([]string, 0, len(args))
	for _, a := range args {
		if a == "" {
			// As git's "empty string is not a valid pathspec": most often
			// an unset variable, which must not mean the whole tree (a
			// restore of it overwrote every change).
			return nil, usagef("an empty PATH names no file; give / for the whole tree")
		}
		if strings.HasPrefix(a, "/") {
			out = append(out, path.Clean("/"+a))
			continue
		}
		abs := realPath(filepath.Join(cwd, a))
		p := ""
		if t := holdingTree(targets, abs); t != "" {
			rel, _ := filepath.Rel(t, abs)
			p = path.Clean("/" + filepath.ToSlash(rel))
		} else if here != "" {
			// As git's "is outside repository": read from the image
			// root, ../../../etc/motd would be the tree's /etc/motd.
			return nil, fmt.Errorf("%s: outside the work tree %s", pathquote.Quote(a), pathquote.Quote(here))
		} else {
			p = path.Clean("/" + a)
		}
		out = append(out, p)
	}
	return out, nil
}

// holdingTree returns the one of targets that holds abs (or is it), or "".
func holdingTree(targets []string, abs string) string {
	for _, t := range targets {
		if rel, err := filepath.Rel(t, abs); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			return t
		}
	}
	return ""
}

// worktreeTargets lists where the repository's work trees are mounted,
// with symlinks resolved, the main one (<project>/rootfs) first.
func worktreeTargets(r *repo.Repo) []string {
	out := []string{realPath(worktree.Main(r).Target())}
	all, _ := worktree.List(r)
	for _, w := range all {
		if w.Name != worktree.MainName && w.Target() != "" {
			out = append(out, realPath(w.Target()))
		}
	}
	return out
}

// realPath resolves symlinks in the longest existing prefix of p, so that
// a work tree reached through a symlinked directory still matches.
func realPath(p string) string {
	p = filepath.Clean(p)
	rest := ""
	for dir := p; ; dir = filepath.Dir(dir) {
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			return filepath.Join(real, rest)
		}
		if dir == "/" || dir == "." {
			return p
		}
		rest = filepath.Join(filepath.Base(dir), rest)
	}
}

// pathExists reports whether p, or anything below it, is in commit c, or
// for a pattern (tree.IsGlob) any path that matches it.
func pathExists(h *tree.History, c *objects.Commit, p string) (bool, error) {
	if p == "/" || c == nil {
		return c != nil, nil
	}
	e, err := h.Lookup(c.Layers(), p)
	if e != nil || err != nil || !tree.IsGlob(p) {
		return e != nil, err
	}
	return h.Matches(c, p)
}

// missingPaths says which paths matched nothing, in one line naming each:
// "/etc/nope, /nope: did not match any file".
func missingPaths(bad []string) error {
	if len(bad) == 0 {
		return nil
	}
	return fmt.Errorf("%s: %w", strings.Join(bad, ", "), errNoPaths)
}

// diffMissing returns the paths with no change at or below them that do
// not exist in the diff's old side either (if a path is unchanged, the
// old side has it exactly when the new side does).
func diffMissing(ctx context.Context, w *worktree.Worktree, revs, paths []string, changes []tree.Change) ([]string, error) {
	var bad []string
	var old *objects.Commit
	resolved := false
	h := tree.NewHistory(w.Repo.Objects)
	for _, p := range paths {
		found := false
		for _, c := range changes {
			if tree.Under(c.Path, []string{p}) {
				found = true
				break
			}
		}
		if found {
			continue
		}
		if !resolved {
			resolved = true
			var err error
			if len(revs) == 0 {
				old, err = w.BaseCommit(ctx)
			} else {
				old, err = w.Resolve(revs[0])
			}
			if err != nil {
				return nil, err
			}
		}
		ok, err := pathExists(h, old, p)
		if err != nil {
			return nil, err
		}
		if !ok {
			bad = append(bad, p)
		}
	}
	return bad, nil
}

// showChanges is what commit c changed under paths against its parents
// (none, or cut off by a shallow history: the empty tree), and the paths
// found on no side. A merge's changes are combined, as git show's: only
// paths that differ from every parent, with one status letter per parent
// ("MA": modified against the first, added against the second).
//
// A commit of one parent (or none) has its renames found as o.renames
// says (tree.FindRenames).
func showChanges(r *repo.Repo, c *objects.Commit, paths []string, o diffOptions) ([]changeJSON, []string, error) {
	parents := []*objects.Commit{nil}
	if ids := c.Parents(); len(ids) > 0 {
		parents = parents[:0]
		for _, pid := range ids {
			var p *objects.Commit
			if r.Objects.Has(pid) {
				var err error
				if p, err = r.Objects.ReadCommit(pid); err != nil {
					return nil, nil, err
				}
			}
			parents = append(parents, p)
		}
	}
	ts := tree.NewTrees(r.Objects)
	var perParent [][]tree.Change
	for _, p := range parents {
		changes, err := tree.DiffRevisions(ts, p, c, paths)
		if err != nil {
			return nil, nil, err
		}
		perParent = append(perParent, changes)
	}
	h := tree.NewHistory(r.Objects)
	var bad []string
	for _, p := range paths {
		found := false
		for _, side := range append([]*objects.Commit{c}, parents...) {
			ok, err := pathExists(h, side, p)
			if err != nil {
				return nil, nil, err
			}
			found = found || ok
		}
		if !found {
			bad = append(bad, p)
		}
	}
	for i := range perParent {
		if o.renames == nil {
			break
		}
		// As git's, a merge's renames are found against each parent: a
		// file renamed on one side is "RM" (the rename against the
		// first parent, a change against the second).
		ro := *o.renames
		var old []objects.Layer
		if parents[i] != nil {
			old = parents[i].Layers()
		}
		ro.Read = h.LayerRead(old, c.Layers())
		if ro.Copies && ro.Harder && parents[i] != nil {
			t, err := ts.Of(parents[i])
			if err != nil {
				return nil, nil, err
			}
			ro.Unmodified = tree.UnmodifiedFiles(t, perParent[i], paths)
		}
		var limited tree.RenameLimit
		var err error
		if perParent[i], limited, err = tree.FindRenames(perParent[i], ro); err != nil {
			return nil, nil, fmt.Errorf("renames: %w", err)
		}
		if len(parents) == 1 {
			// git 2.39 warns of the limit for one parent's diff only,
			// never for a merge's combined one.
			o.noteRenameLimit(limited)
		}
	}
	return combineChanges(perParent), bad, nil
}

// combineChanges keeps the paths changed against every parent; the status
// has one letter per parent, and old is the first parent's entry. A
// merge's change, as git's combined views, names only the merge's path:
// a rename's R is in its status, without its source or score.
func combineChanges(perParent [][]tree.Change) []changeJSON {
	out := toChangesJSON(perParent[0])
	for _, others := range perParent[1:] {
		byPath := make(map[string]tree.Change, len(others))
		for _, o := range others {
			byPath[o.Path] = o
		}
		kept := out[:0]
		for _, c := range out {
			if o, ok := byPath[c.Path]; ok {
				c.Status += o.Kind.String()
				c.OldPath, c.OldPathBytes, c.Score = "", nil, nil
				kept = append(kept, c)
			}
		}
		out = kept
	}
	return out
}

// splitPathArgs applies git's rule to revision and path arguments given
// without "--": each is a revision while it resolves as one; the first
// that does not but names a file of the work tree at target (resolved as
// imagePaths does), or is a pattern (looksLikePattern), starts the
// paths, and each argument after it must be one too. An argument
// starting with "/", "./" or "../", or ".", names no revision (no ref
// name has an empty component or one starting with '.') and starts the
// paths even when the work tree lacks it. A revision that is also a file
// stays a revision ("--" before it makes it a path). Any other argument
// is an error that says to use "--".
func splitPathArgs(g *globals, r *repo.Repo, target string, args []string) (revs, paths []string, err error) {
	for i, a := range args {
		if !notRevision(a) {
			rerr := resolvesAsRevision(r, a)
			if rerr == nil {
				continue
			}
			if !looksLikePattern(a) && !inWorktree(g, r, target, a) {
				return nil, nil, notPathEither(a, rerr)
			}
		}
		for _, p := range args[i+1:] {
			if !notRevision(p) && !looksLikePattern(p) && !inWorktree(g, r, target, p) {
				return nil, nil, fmt.Errorf("%s: not a path in the work tree (revisions come before paths); use '--' to separate paths from revisions", p)
			}
		}
		return args[:i], args[i:], nil
	}
	return args, nil, nil
}

// notRevision says whether arg cannot be a revision: "/etc", "./x",
// "../x", ".".
func notRevision(a string) bool {
	return a == "." || strings.HasPrefix(a, "/") || strings.HasPrefix(a, "./") || strings.HasPrefix(a, "../")
}

// looksLikePattern is git's looks_like_pathspec: an argument with a
// wildcard (*, ? or [, not escaped by a backslash) is a pattern, which
// need match no file of the work tree, so it starts the paths without
// "--" (strata diff '*.conf'), as git's diff and log take it.
func looksLikePattern(a string) bool {
	escaped := false
	for _, c := range a {
		switch {
		case escaped:
			escaped = false
		case c == '\\':
			escaped = true
		case c == '*' || c == '?' || c == '[':
			return true
		}
	}
	return false
}

// resolvesAsRevision resolves a revision argument of log or diff: REV,
// ^REV, A..B, A...B, X^@, X^! or X^-N.
func resolvesAsRevision(r *repo.Repo, a string) error {
	sides := []string{strings.TrimPrefix(a, "^")}
	if x, y, _, ok := refs.SplitRange(a); ok {
		sides = []string{x, y}
	} else if _, _, _, ok := refs.SplitParentShorthand(a); ok {
		_, _, err := parentShorthand(r, a)
		return err
	}
	for _, s := range sides {
		if _, err := r.Refs.Resolve(s, r.Objects); err != nil {
			return err
		}
	}
	return nil
}

// inWorktree reports whether a, a path argument, names a file of the
// work tree mounted at target.
func inWorktree(g *globals, r *repo.Repo, target, a string) bool {
	if target == "" {
		return false
	}
	ps, err := imagePaths(g, r, []string{a})
	if err != nil {
		return false
	}
	_, err = os.Lstat(filepath.Join(target, ps[0]))
	return err == nil
}

// notPathEither is the error for an argument that is neither a revision
// nor a file of the work tree: the revision's error, and git's advice.
func notPathEither(a string, rerr error) error {
	const hint = "use '--' to separate paths from revisions"
	if !errors.Is(rerr, refs.ErrUnknownRevision) || strings.ContainsAny(a, "~^@:{}") || strings.Contains(a, "..") {
		return rerr // revision syntax: it was meant as one
	}
	if strings.HasSuffix(rerr.Error(), refs.ErrUnknownRevision.Error()) {
		return fmt.Errorf("%w or path not in the work tree; %s", rerr, hint)
	}
	return fmt.Errorf("%w; not a path in the work tree either: %s", rerr, hint)
}

// currentTarget is where the work tree the command runs in is mounted:
// the one holding the current directory (or -C), else the main one.
func currentTarget(g *globals, r *repo.Repo) string {
	start := g.chdir
	if start == "" {
		start = "."
	}
	cwd, err := filepath.Abs(start)
	if err != nil {
		return ""
	}
	cwd = realPath(cwd)
	targets := worktreeTargets(r)
	for _, t := range targets {
		if rel, err := filepath.Rel(t, cwd); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			return t
		}
	}
	return targets[0]
}
