package worktree

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/tree"
)

// ErrUnmerged: restore without a source named a path that a stopped
// step left in conflict.
var ErrUnmerged = errors.New("unmerged")

// ErrNoConflictSides: restore --ours or --theirs with no step stopped.
var ErrNoConflictSides = errors.New("no merge, rebase, cherry-pick or revert is stopped on a conflict here, and no checkout -m left one")

// Side is one side of a stopped step's conflict.
type Side int

const (
	Ours   Side = iota + 1 // the commit the work tree shows: HEAD, the new base so far
	Theirs                 // what is merged in: the other branch, the commit replayed, a reverted commit's parent
)

func (s Side) String() string {
	if s == Theirs {
		return "theirs"
	}
	return "ours"
}

// ErrNotUnmerged: restore --ours or --theirs named a path with no
// conflict at or below it.
var ErrNotUnmerged = errors.New("not unmerged")

// ErrNoSide: the side asked for does not have a conflicted path (a
// deletion on that side), as git's "does not have our version".
var ErrNoSide = errors.New("does not have")

// ErrNoLocalSide: restore --theirs of a checkout -m's conflict.
var ErrNoLocalSide = errors.New("a checkout -m's local version is kept only in the conflict markers (strata has no index to hold it): edit them, or '--ours' takes the version switched to")

// RestoreSide is git's restore --ours / --theirs: each path at or below
// paths that the step a merge, rebase, cherry-pick or revert stopped on
// left in conflict is restored from that side. A marked file then holds
// that side's version without markers; a conflict without markers that
// the work tree already holds as that side stays as the stop left it,
// which --continue refuses until --force, as before. A checkout -m's
// conflicts take --ours, the version switched to (HEAD), which ends them.
// Paths not in conflict are left as they are (git takes them from its
// index, which a work tree without one already is), but a named path
// with no conflict at or below it is refused (ErrNotUnmerged), and so is
// a side that deleted a conflicted path (ErrNoSide), as git's overlay
// checkout refuses it; then nothing is written.
func (w *Worktree) RestoreSide(ctx context.Context, side Side, paths []string) (int, error) {
	var conflicts []Conflict
	return w.restore(ctx, paths, func(st State) (*objects.Commit, string, error) {
		s, ok, err := w.Sequence()
		if err != nil {
			return nil, "", err
		}
		if !ok || !s.Stopped {
			return w.checkoutSide(st, side, &conflicts)
		}
		conflicts = s.Conflicts
		id := s.Head
		if side == Theirs {
			if id, err = w.theirs(s); err != nil {
				return nil, "", err
			}
		}
		c, err := w.opCommit(id)
		return c, fmt.Sprintf("%s (%s)", side, short(id)), err
	}, func(_ State, c *objects.Commit, paths []string) ([]string, error) {
		return w.sidePaths(c, side, conflicts, paths)
	})
}

// checkoutSide is the commit --ours takes a checkout -m's conflicts
// from: HEAD, the version switched to. Its local version, --theirs, is
// nowhere but in the markers.
func (w *Worktree) checkoutSide(st State, side Side, conflicts *[]Conflict) (*objects.Commit, string, error) {
	if len(st.Unmerged) == 0 {
		return nil, "", fmt.Errorf("--%s: %w", side, ErrNoConflictSides)
	}
	if side == Theirs {
		return nil, "", fmt.Errorf("--theirs: %w", ErrNoLocalSide)
	}
	*conflicts = st.Unmerged
	c, err := w.restoreSource(st)
	if err != nil {
		return nil, "", err
	}
	return c, fmt.Sprintf("%s (%s)", side, short(c.ID)), nil
}

// sidePaths returns the conflicted paths at or below paths, each once,
// which c (side's commit) must have.
func (w *Worktree) sidePaths(c *objects.Commit, side Side, conflicts []Conflict, paths []string) ([]string, error) {
	var out, clean []string
	seen := map[string]bool{}
	for _, p := range paths {
		hit := false
		for _, cf := range conflicts {
			if tree.Under(cf.Path, []string{p}) {
				hit = true
				if !seen[cf.Path] {
					seen[cf.Path] = true
					out = append(out, cf.Path)
				}
			}
		}
		if !hit {
			clean = append(clean, pathquote.Quote(p))
		}
	}
	if len(clean) > 0 {
		return nil, fmt.Errorf("--%s: %s %s %w: only a conflict has sides; '--source REV PATH' takes a revision's version", side, strings.Join(clean, ", "), isOrAre(len(clean)), ErrNotUnmerged)
	}
	t, err := w.trees.Subset(c, func(p string) bool { return seen[p] })
	if err != nil {
		return nil, err
	}
	for _, p := range out {
		if t[p] == nil {
			whose := "our"
			if side == Theirs {
				whose = "their"
			}
			return nil, fmt.Errorf("%s %w %s version", pathquote.Quote(p), ErrNoSide, whose)
		}
	}
	return out, nil
}

// theirs is the commit the stopped step merges into ours, as its
// conflict markers name it.
func (w *Worktree) theirs(s *Sequence) (digest.Digest, error) {
	switch {
	case s.Op == OpMerge:
		return s.Theirs, nil
	case len(s.Todo) == 0:
		return "", fmt.Errorf("%s: %w", s.Op, ErrNoConflictSides)
	case s.Op == OpRevert:
		c, err := w.commit(s.Todo[0])
		if err != nil {
			return "", err
		}
		return mainlineParent(c, s.Mainline), nil
	}
	return s.Todo[0], nil
}

// refuseUnmerged fails if paths cover a path, or lie below one, that the
// stopped step left in conflict.
func (w *Worktree) refuseUnmerged(paths []string) error {
	s, ok, err := w.Sequence()
	if err != nil || !ok || !s.Stopped {
		return err
	}
	var hit []string
	for _, c := range s.Conflicts {
		if tree.Under(c.Path, paths) || underAny(paths, c.Path) {
			hit = append(hit, pathquote.Quote(c.Path))
		}
	}
	if len(hit) == 0 {
		return nil
	}
	is := "is"
	if len(hit) > 1 {
		is = "are"
	}
	return fmt.Errorf("%s %s %w (the stopped %s's conflict): 'strata restore --ours PATH' or '--theirs PATH' takes one side, '--source REV PATH' a revision's version", strings.Join(hit, ", "), is, ErrUnmerged, s.Op)
}

// underAny reports whether one of paths lies below dir.
func underAny(paths []string, dir string) bool {
	for _, p := range paths {
		if tree.Under(p, []string{dir}) {
			return true
		}
	}
	return false
}
