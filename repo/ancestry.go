package repo

import (
	"errors"
	"fmt"
	"slices"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
)

// ErrNonFastForward: a branch would move to a commit that does not
// descend from it (remote returns the same value for a refused push).
var ErrNonFastForward = errors.New("remote has commits that are not in the local history")

// IsAncestor reports whether commit anc is desc or one of its ancestors in
// the local store, following every parent of a merge. A history that ends
// (root or missing parent) before anc is found answers false.
func IsAncestor(s *objects.Store, anc, desc digest.Digest) (bool, error) {
	// anc is an ancestor of desc exactly when it is their best common
	// ancestor; paintDown finds that without reading all of desc's
	// history when the answer is no.
	common, err := paintDown(s, anc, desc)
	return slices.Contains(common, anc), err
}

// walkAncestors calls visit for desc and each of its ancestors once,
// breadth first, until visit returns false. A missing parent ends that
// line of the walk (a shallow or partial history), not the walk.
func walkAncestors(s *objects.Store, desc digest.Digest, visit func(digest.Digest) bool) error {
	return walk(s, []digest.Digest{desc}, func(d digest.Digest) step {
		if visit(d) {
			return next
		}
		return stop
	})
}

// ErrNoMergeBase: two commits share no ancestor in the local store.
var ErrNoMergeBase = errors.New("no common ancestor")

// MergeBase returns a best common ancestor of a and b: one that is an
// ancestor of both and of which no other common ancestor is a
// descendant (git's merge-base; of several such, the one nearest a). It
// reads the commits between the tips and their bases, not whole histories
// (paintDown).
func MergeBase(s *objects.Store, a, b digest.Digest) (digest.Digest, error) {
	best, err := MergeBases(s, a, b)
	if err != nil {
		return "", err
	}
	// Of several, prefer the one nearest a.
	for _, d := range bfsOrder(s, a, best) {
		return d, nil
	}
	return best[0], nil
}

// MergeBases returns every best common ancestor of a and b (git's
// merge-base --all), or ErrNoMergeBase.
func MergeBases(s *objects.Store, a, b digest.Digest) ([]digest.Digest, error) {
	common, err := paintDown(s, a, b)
	if err != nil {
		return nil, err
	}
	if len(common) == 0 {
		return nil, ErrNoMergeBase
	}
	if len(common) == 1 {
		return common, nil
	}
	// Drop every common ancestor that another one descends from.
	best := make([]digest.Digest, 0, len(common))
	for i, c := range common {
		redundant := false
		for j, o := range common {
			if i == j || o == c {
				continue
			}
			if ok, err := IsAncestor(s, c, o); err != nil {
				return nil, err
			} else if ok {
				redundant = true
				break
			}
		}
		if !redundant {
			best = append(best, c)
		}
	}
	return best, nil
}

// bfsOrder returns those of want in the order a walk from a meets them.
func bfsOrder(s *objects.Store, a digest.Digest, want []digest.Digest) []digest.Digest {
	w := map[digest.Digest]bool{}
	for _, d := range want {
		w[d] = true
	}
	var out []digest.Digest
	walkAncestors(s, a, func(d digest.Digest) bool {
		if w[d] {
			out = append(out, d)
		}
		return len(out) < len(want)
	})
	return out
}

// FastForward moves branch (a short name) to commit to, which must
// descend from the branch's commit. A missing branch is created. It
// returns where the branch was ("" if new).
func (r *Repo) FastForward(branch string, to digest.Digest, msg string) (digest.Digest, error) {
	name := refs.Heads + branch
	old, err := r.Refs.Read(name)
	if err != nil && !errors.Is(err, refs.ErrNotFound) {
		return "", err
	}
	if old == to {
		return old, nil
	}
	if old != "" {
		ok, err := IsAncestor(r.Objects, old, to)
		if err != nil {
			return old, err
		}
		if !ok {
			return old, fmt.Errorf("branch %s and the remote have diverged: %w; 'strata pull --rebase' or 'strata pull --merge' brings them together", branch, ErrNonFastForward)
		}
	}
	if h, err := r.Refs.ReadHead(); err == nil && h.Branch == name {
		return old, r.Refs.UpdateHead(to, old, msg)
	}
	return old, r.Refs.Update(name, to, old, msg)
}
