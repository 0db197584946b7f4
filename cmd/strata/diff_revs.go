package main

import (
	"fmt"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// diffRange reads git's "diff A..B" (A against B), "diff A...B" (their
// merge base against B), and "diff X^!" and "diff X^-N" (X's parent, N,
// against X); other revisions stay as they are.
func diffRange(r *repo.Repo, revs []string) ([]string, error) {
	if len(revs) != 1 {
		return revs, nil
	}
	if _, _, _, ok := refs.SplitParentShorthand(revs[0]); ok {
		return diffParent(r, revs[0])
	}
	a, b, symmetric, ok := refs.SplitRange(revs[0])
	if !ok || !symmetric {
		if ok {
			return []string{a, b}, nil
		}
		return revs, nil
	}
	da, err := r.Refs.Resolve(a, r.Objects)
	if err != nil {
		return nil, err
	}
	db, err := r.Refs.Resolve(b, r.Objects)
	if err != nil {
		return nil, err
	}
	base, err := repo.MergeBase(r.Objects, da, db)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", revs[0], err)
	}
	return []string{base.String(), b}, nil
}

// mergeRev marks the revisions diffRange gives for "diff X^!" of a
// merge X: X's combined diff against its parents, as git's (X follows).
const mergeRev = "^!merge"

// diffParent is the two ends of "diff X^!" and "diff X^-N", as git's:
// X's parent (N) and X; X alone (against the work tree) for X^! of a
// root commit; mergeRev and X for X^! of a merge (git's combined diff).
// X^@ is X's parents, as git's: "diff P1 P2" of a merge, "diff P" (P
// against the work tree) of a commit of one parent, no revision at all
// ("diff": the work tree against HEAD) of a root commit; of a merge of
// more than two, it is refused.
func diffParent(r *repo.Repo, arg string) ([]string, error) {
	rev, kind, n, _ := refs.SplitParentShorthand(arg)
	x, err := r.Refs.Resolve(rev, r.Objects)
	if err != nil {
		return nil, err
	}
	parents, err := r.Objects.Parents(x)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", arg, err)
	}
	switch {
	case kind == refs.ParentsOf && len(parents) == 0:
		return []string{}, nil
	case kind == refs.ParentsOf && len(parents) > 2:
		return nil, fmt.Errorf("%s: diff takes one or two commits, %s has %d parents: X^! or X^-N", arg, shortID(x), len(parents))
	case kind == refs.ParentsOf:
		return digestStrings(parents), nil
	case kind == refs.WithoutParent && len(parents) == 0:
		return []string{x.String()}, nil
	case kind == refs.WithoutParent && len(parents) > 1:
		return []string{mergeRev, x.String()}, nil
	case kind == refs.WithoutParent:
		n = 1
	}
	if n > len(parents) {
		return nil, fmt.Errorf("%s: %w: %s has no parent %d", arg, refs.ErrUnknownRevision, shortID(x), n)
	}
	return []string{parents[n-1].String(), x.String()}, nil
}

// digestStrings is ids as strings.
func digestStrings(ids []digest.Digest) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}
