package main

import (
	"fmt"
	"slices"

	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/tree"
)

// showList is the commits show shows, as git show takes revisions: when
// they hold a range (A..B, ^A, A...B, X^!, X^-N), every commit log lists
// for them, newest first (walked; with PATHs, those that changed them,
// and missing the PATHs none of the range has); else each commit named,
// in order (X^@: X's parents). set says the revisions name a set of
// commits (a range, X^@), not one each. ids is nil when they hold a
// REV:PATH, shown as it is.
type showList struct {
	ids         []string
	set, walked bool
	missing     []string
}

func showCommits(g *globals, r *repo.Repo, revs, paths []string) (showList, error) {
	if slices.ContainsFunc(revs, isRevPath) {
		return showList{}, nil
	}
	rr, err := parseRevRange(r, revs)
	if err != nil {
		return showList{}, err
	}
	l := showList{ids: []string{}}
	if len(rr.exclude) == 0 && len(rr.left) == 0 {
		for _, d := range rr.include {
			l.ids = append(l.ids, d.String())
		}
		l.set = slices.ContainsFunc(revs, func(rev string) bool {
			_, kind, _, ok := refs.SplitParentShorthand(rev)
			return ok && kind == refs.ParentsOf
		})
		return l, nil
	}
	l.set, l.walked = true, true
	tips, only, err := rr.tips(r)
	if err != nil {
		return showList{}, err
	}
	var hist *tree.History
	missing := map[string]bool{}
	if len(paths) > 0 {
		if paths, err = imagePaths(g, r, paths); err != nil {
			return showList{}, err
		}
		hist, paths = tree.NewHistory(r.Objects), cleanPaths(paths)
		if missing, err = missingAt(hist, r, tips, paths); err != nil {
			return showList{}, err
		}
	}
	w := newLogWalk(r, tips, only, false, false, hist, paths, nil, nil)
	defer w.close()
	for d, n := w.next(); d != ""; d, n = w.next() {
		if n.err != nil {
			return showList{}, fmt.Errorf("commit %s: %w", shortID(d), n.err)
		}
		if n.hidden {
			continue
		}
		if len(missing) > 0 {
			if err := markTouched(hist, r, d, missing); err != nil {
				return showList{}, err
			}
		}
		l.ids = append(l.ids, d.String())
	}
	for p := range missing {
		l.missing = append(l.missing, p)
	}
	return l, nil
}
