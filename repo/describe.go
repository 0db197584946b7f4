package repo

import (
	"errors"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/objects"
)

// Description is git describe's answer for a commit: the nearest tag
// and how many commits the commit has that the tag's commit does not.
type Description struct {
	Tag      string
	Tagged   digest.Digest // the tag's commit
	Distance int
}

// maxCandidates is git describe's default --candidates.
const maxCandidates = 10

// Describe finds the tag nearest to tip, as git describe does: the
// tagged ancestors met first in a breadth-first walk are candidates (ten
// at most), and the one whose commit leaves the fewest commits of tip's
// history out wins (the first met, on a tie). tags maps commits to
// their tag names, the preferred first. ok is false when no ancestor of
// tip is tagged.
func (r *Repo) Describe(tip digest.Digest, tags map[digest.Digest][]string) (d Description, ok bool, err error) {
	type candidate struct {
		commit digest.Digest
		dist   int // generations from tip: a lower bound of the distance
	}
	var cands []candidate
	total := 0
	// Breadth first, by generations from tip; a missing commit (a
	// shallow history) ends its line, as in walk.
	seen := map[digest.Digest]bool{tip: true}
	level := []digest.Digest{tip}
	for gen := 0; len(level) > 0; gen++ {
		var nextLevel []digest.Digest
		for _, c := range level {
			total++
			if len(tags[c]) > 0 && len(cands) < maxCandidates {
				cands = append(cands, candidate{c, gen})
			}
			ps, err := r.Objects.Parents(c)
			if errors.Is(err, objects.ErrNotFound) {
				continue
			}
			if err != nil {
				return d, false, err
			}
			for _, p := range ps {
				if !seen[p] {
					seen[p] = true
					nextLevel = append(nextLevel, p)
				}
			}
		}
		level = nextLevel
	}
	if len(cands) == 0 {
		return d, false, nil
	}
	best := -1
	for _, c := range cands {
		// Every commit on a path from tip to c, c left out, is not c's
		// ancestor: the distance is at least the generations between.
		if best >= 0 && c.dist >= d.Distance {
			continue
		}
		n, err := r.historySize(c.commit)
		if err != nil {
			return d, false, err
		}
		if distance := total - n; best < 0 || distance < d.Distance {
			best, d = 1, Description{Tag: tags[c.commit][0], Tagged: c.commit, Distance: distance}
		}
	}
	return d, true, nil
}

// historySize counts the commits of tip's history (tip included) that
// this repository has.
func (r *Repo) historySize(tip digest.Digest) (int, error) {
	n := 0
	err := walk(r.Objects, []digest.Digest{tip}, func(digest.Digest) step {
		n++
		return next
	})
	if errors.Is(err, objects.ErrNotFound) {
		err = nil
	}
	return n, err
}
