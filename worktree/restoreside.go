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
var ErrNoConflictSides = errors.New("no merge, rebase, cherry-pick or revert is stopped on a conflict here")

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

// RestoreSide is git's restore --ours / --theirs: Restore from one side of
// the step a merge, rebase, cherry-pick or revert stopped on. A marked
// file then holds that side's version without markers; a conflict without
// markers that the work tree already holds as that side stays as the stop
// left it, which --continue refuses until --force, as before.
func (w *Worktree) RestoreSide(ctx context.Context, side Side, paths []string) (int, error) {
	return w.restore(ctx, paths, func(State) (*objects.Commit, string, error) {
		s, ok, err := w.Sequence()
		if err != nil {
			return nil, "", err
		}
		if !ok || !s.Stopped {
			return nil, "", fmt.Errorf("--%s: %w", side, ErrNoConflictSides)
		}
		id := s.Head
		if side == Theirs {
			if id, err = w.theirs(s); err != nil {
				return nil, "", err
			}
		}
		c, err := w.opCommit(id)
		return c, fmt.Sprintf("%s (%s)", side, short(id)), err
	}, false)
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
