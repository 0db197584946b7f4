package main

import (
	"fmt"
	"sort"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// revName is a commit's name as git's name-rev gives it for describe
// --contains: a path down from a tag that holds the commit, "v3~2" (the
// first parent twice), "v3~1^2~1" (then a merge's second parent).
type revName struct {
	tip        string // the path to the last second parent taken: "v3~1^2"
	generation int    // first parents taken after tip
	distance   int    // 1 a first parent, mergeWeight a second: git's weights
	date       int64  // the tag's commit's date: the older tag wins
}

// mergeWeight is git's MERGE_TRAVERSAL_WEIGHT: a second parent counts as
// that many first parents.
const mergeWeight = 65535

func (n revName) String() string {
	if n.generation == 0 {
		return n.tip
	}
	return fmt.Sprintf("%s~%d", n.tip, n.generation)
}

// betterThan says whether n names a commit better than old, as git's
// is_better_name for two tags: the older tag, then the shorter path.
func (n revName) betterThan(old *revName) bool {
	return old == nil || old.date > n.date || old.date == n.date && old.distance > n.distance
}

// containsNames names the commits the tags of --match and --exclude hold
// (what describe --contains prints), as git's name-rev --tags: a walk
// from each tag, oldest first, down first parents first, keeps the better
// name of each commit. As git's, it does not go below commits a day older
// than the oldest of ids (cutoff), which it names.
func containsNames(r *repo.Repo, o describeOptions, ids []digest.Digest) (map[digest.Digest]*revName, error) {
	sums := map[digest.Digest]objects.Summary{}
	summary := func(d digest.Digest) (objects.Summary, error) {
		s, ok := sums[d]
		if !ok {
			var err error
			if s, err = r.Objects.ReadSummary(d); err != nil {
				return s, fmt.Errorf("commit %s: %w", shortID(d), err)
			}
			sums[d] = s
		}
		return s, nil
	}
	cutoff := int64(1<<63 - 1)
	for _, id := range ids {
		s, err := summary(id)
		if err != nil {
			return nil, err
		}
		cutoff = min(cutoff, s.Date.Unix()-86400)
	}
	all, err := r.Refs.List(refs.Tags)
	if err != nil {
		return nil, err
	}
	type tip struct {
		name string
		id   digest.Digest
		date int64
	}
	var tips []tip
	for _, ref := range all {
		name := ref.Short()
		if !matchesAny(o.match, name) || len(o.exclude) > 0 && matchesAny(o.exclude, name) || !r.Objects.Has(ref.Target) {
			continue
		}
		s, err := summary(ref.Target)
		if err != nil {
			return nil, err
		}
		tips = append(tips, tip{name, ref.Target, s.Date.Unix()})
	}
	sort.SliceStable(tips, func(i, j int) bool { return tips[i].date < tips[j].date })
	names := map[digest.Digest]*revName{}
	for _, t := range tips {
		start := &revName{tip: t.name, date: t.date}
		if t.date < cutoff || !start.betterThan(names[t.id]) {
			continue
		}
		names[t.id] = start
		stack := []digest.Digest{t.id}
		for len(stack) > 0 {
			d := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			s, err := summary(d)
			if err != nil {
				return nil, err
			}
			n := names[d]
			var better []digest.Digest
			for i, p := range []digest.Digest{s.Parent, s.MergeParent} {
				if p == "" || !r.Objects.Has(p) {
					continue
				}
				ps, err := summary(p)
				if err != nil {
					return nil, err
				}
				if ps.Date.Unix() < cutoff {
					continue
				}
				pn := &revName{tip: n.tip, generation: n.generation + 1, distance: n.distance + 1, date: t.date}
				if i == 1 {
					pn = &revName{tip: n.String() + "^2", distance: n.distance + mergeWeight, date: t.date}
				}
				if pn.betterThan(names[p]) {
					names[p] = pn
					better = append(better, p)
				}
			}
			// The first parent is walked first.
			for i := len(better) - 1; i >= 0; i-- {
				stack = append(stack, better[i])
			}
		}
	}
	return names, nil
}
