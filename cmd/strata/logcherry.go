package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/repo"
)

// cherrySame is what git's --cherry-mark and --cherry-pick compare: the
// commits of an A...B range (tips, only; left: A's ends) whose change
// the other side has too. A commit's change is the layers it adds to
// its first parent's, by diff id (the uncompressed digest): cherry-pick
// and rebase replay a change as the same layer, so a commit and its
// copy on the other side match, as git's patch ids do. Commits that add
// no layer (commit --allow-empty) match each other, as git's empty
// patches do; a merge matches nothing, nor does a commit whose layers
// do not start with its parent's.
func cherrySame(r *repo.Repo, tips []digest.Digest, only map[digest.Digest]bool, leftTips []digest.Digest) (map[digest.Digest]bool, error) {
	left := map[digest.Digest]bool{}
	for _, d := range leftTips {
		left[d] = true
	}
	diffIDs := map[digest.Digest][]string{} // read once, a parent's too
	layersOf := func(d digest.Digest) ([]string, error) {
		if ids, ok := diffIDs[d]; ok {
			return ids, nil
		}
		c, err := r.Objects.ReadCommit(d)
		if err != nil {
			return nil, fmt.Errorf("commit %s: %w", shortID(d), err)
		}
		ids := []string{}
		for _, l := range c.Layers() {
			ids = append(ids, l.DiffID.String())
		}
		diffIDs[d] = ids
		return ids, nil
	}
	change := map[digest.Digest]string{}
	sides := [2]map[string]bool{{}, {}} // the changes of the right side, of the left
	w := newLogWalk(r, tips, only, false, false, nil, nil, nil, nil)
	defer w.close()
	for d, n := w.next(); d != ""; d, n = w.next() {
		if n.err != nil {
			return nil, fmt.Errorf("commit %s: %w", shortID(d), n.err)
		}
		for _, p := range []digest.Digest{n.sum.Parent, n.sum.MergeParent} {
			if left[d] && p != "" {
				left[p] = true
			}
		}
		if n.sum.MergeParent != "" {
			continue
		}
		ids, err := layersOf(d)
		if err != nil {
			return nil, err
		}
		var base []string
		if p := n.sum.Parent; p != "" {
			if !r.Objects.Has(p) {
				continue // shallow: what it changed is not known
			}
			if base, err = layersOf(p); err != nil {
				return nil, err
			}
		}
		if len(base) > len(ids) || !slices.Equal(base, ids[:len(base)]) {
			continue
		}
		change[d] = strings.Join(ids[len(base):], " ")
		sides[btoi(left[d])][change[d]] = true
	}
	same := map[digest.Digest]bool{}
	for d, c := range change {
		if sides[1-btoi(left[d])][c] {
			same[d] = true
		}
	}
	return same, nil
}
