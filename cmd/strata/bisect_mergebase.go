package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/repo"
)

// bisectAncestorsOKFile, git's BISECT_ANCESTORS_OK: the merge bases of
// the bad commit and the good ones were found good (or skipped).
const bisectAncestorsOKFile = "BISECT_ANCESTORS_OK"

// exitBadMergeBase is git's exit status when a merge base was marked bad.
const exitBadMergeBase = 3

// mergeBaseToTest is git's check_good_are_ancestors_of_bad: a good
// commit that is not an ancestor of the bad one means the search is
// only sound if their merge bases are good. It returns a merge base to
// test first, or "" once each is good or skipped (a skipped one with
// git's warning on warn), which BISECT_ANCESTORS_OK then remembers. A
// merge base marked bad as it was tested (tested: the commit tested
// last) ends the bisection, exit 3, as git's: the bug was fixed between
// it and the good commits.
func (b *bisection) mergeBaseToTest(warn io.Writer, tested digest.Digest) (digest.Digest, error) {
	if _, err := os.Stat(b.path(bisectAncestorsOKFile)); !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	bad, good, skip, err := b.terms()
	if err != nil || bad == "" || len(good) == 0 {
		return "", err
	}
	for _, gd := range good {
		bases, err := repo.MergeBases(b.r.Objects, bad, gd)
		if errors.Is(err, repo.ErrNoMergeBase) {
			continue // unrelated histories: nothing to test between them
		}
		if err != nil {
			return "", err
		}
		for _, mb := range bases {
			switch {
			case mb == bad:
				return "", badMergeBase(bad, good, tested)
			case slices.Contains(good, mb):
			case slices.Contains(skip, mb):
				fmt.Fprintf(warn, "strata: warning: the merge base between %s and [%s] must be skipped; so we cannot be sure the first bad commit is between %s and %s; we continue anyway\n",
					shortID(bad), shortIDs(good), shortID(mb), shortID(bad))
			default:
				return mb, nil
			}
		}
	}
	return "", b.write(bisectAncestorsOKFile, "")
}

// badMergeBase is git's handle_bad_merge_base: bad is a merge base of
// itself and a good commit. When it was the commit tested, the bug was
// fixed on the good side (exit 3); else good and bad were given the
// wrong way round.
func badMergeBase(bad digest.Digest, good []digest.Digest, tested digest.Digest) error {
	if tested != bad {
		return fmt.Errorf("some good commits are not ancestors of the bad commit %s; are good and bad swapped?", shortID(bad))
	}
	return exitCodeError{code: exitBadMergeBase, err: fmt.Errorf("the merge base %s is bad: this means the bug has been fixed between %s and [%s]", shortID(bad), shortID(bad), shortIDs(good))}
}

func shortIDs(ids []digest.Digest) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = shortID(id)
	}
	return strings.Join(s, " ")
}
