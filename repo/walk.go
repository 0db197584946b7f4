package repo

import (
	"errors"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/objects"
)

// WalkAncestors calls visit for tip and each of its ancestors once,
// through both parents of a merge, breadth first, until visit returns
// false. A missing commit ends its line of the walk (a shallow history),
// not the walk.
func WalkAncestors(s *objects.Store, tip digest.Digest, visit func(digest.Digest) bool) error {
	if tip == "" {
		return nil
	}
	return walkAncestors(s, tip, visit)
}

// WalkHistory calls visit once for each commit of the histories of tips,
// through both parents of a merge, breadth first; visit returning false
// prunes that commit's parents (not the walk). A missing commit ends its
// line of the walk.
func WalkHistory(s *objects.Store, tips []digest.Digest, visit func(digest.Digest) bool) error {
	return walk(s, tips, func(d digest.Digest) step {
		if visit(d) {
			return next
		}
		return prune
	})
}

// step is what a walk does after visiting a commit.
type step int

const (
	next  step = iota // go on to its parents
	prune             // skip its parents, go on with the rest
	stop              // end the walk
)

// walk visits each commit of the histories of tips once, breadth first
// through both parents; a missing commit ends its line of the walk.
func walk(s *objects.Store, tips []digest.Digest, visit func(digest.Digest) step) error {
	seen := map[digest.Digest]bool{}
	var queue []digest.Digest
	for _, t := range tips {
		if t != "" && !seen[t] {
			seen[t] = true
			queue = append(queue, t)
		}
	}
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		switch visit(d) {
		case stop:
			return nil
		case prune:
			continue
		}
		ps, err := s.Parents(d)
		if errors.Is(err, objects.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		for _, p := range ps {
			if !seen[p] {
				seen[p] = true
				queue = append(queue, p)
			}
		}
	}
	return nil
}
