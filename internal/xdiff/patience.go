package xdiff

import "sort"

// The patience diff of git diff --patience, as xdiff's xpatience.c: the
// longest ordered run of lines that occur once in each file's range
// anchors the diff; the gaps between those lines are diffed the same
// way, recursively, and a range without such lines falls back to Myers.

// diffPatience is diffMyers with git's patience algorithm. As in git,
// it diffs the whole files: xdl_prepare_env neither trims the common
// ends nor discards lines for it.
func diffPatience(a, b [][]byte, o Options) []Change {
	x, y, _ := classifyPair(a, b)
	p := &patience{x: x, y: y, minimal: o.Minimal, slot: make([]int, len(x.class)+len(y.class))}
	for i := range p.slot {
		p.slot[i] = -1
	}
	p.diff(1, len(a), 1, len(b))
	compact(x, y, o.IndentHeuristic)
	compact(y, x, o.IndentHeuristic)
	return buildScript(x, y)
}

// patience holds what xpatience.c's recursion shares.
type patience struct {
	x, y    *side
	minimal bool  // the Myers fallback is --minimal's
	slot    []int // per class, its entry in the range being indexed (-1: none)
}

// uniqueLine is xpatience.c's struct entry: a line of x's range, line1
// its first occurrence, line2 its one match in y's range (1-based).
type uniqueLine struct {
	line1, line2 int
}

// line2 values of a uniqueLine that is no anchor.
const (
	noMatch   = 0  // not in y's range
	nonUnique = -1 // more than once in x's range or in y's
)

// diff marks the changed lines of x's [line1, line1+count1) against y's
// [line2, line2+count2), 1-based (patience_diff).
func (p *patience) diff(line1, count1, line2, count2 int) {
	if count1 == 0 {
		markChanged(p.y, line2, count2)
		return
	}
	if count2 == 0 {
		markChanged(p.x, line1, count1)
		return
	}
	lines, hasMatches := p.index(line1, count1, line2, count2)
	if !hasMatches {
		markChanged(p.x, line1, count1)
		markChanged(p.y, line2, count2)
		return
	}
	anchors := longestCommonSequence(lines)
	if len(anchors) == 0 {
		classicRange(p.x, p.y, line1, count1, line2, count2, p.minimal)
		return
	}
	p.walk(anchors, line1, count1, line2, count2)
}

// index lists the distinct lines of x's range in order of first
// occurrence, each with its match in y's range (fill_hashmap); it says
// whether any line of y's range occurs in x's.
func (p *patience) index(line1, count1, line2, count2 int) ([]uniqueLine, bool) {
	var lines []uniqueLine
	for l := line1; l < line1+count1; l++ {
		c := p.x.class[l-1]
		if e := p.slot[c]; e >= 0 {
			lines[e].line2 = nonUnique
			continue
		}
		p.slot[c] = len(lines)
		lines = append(lines, uniqueLine{line1: l, line2: noMatch})
	}
	hasMatches := false
	for l := line2; l < line2+count2; l++ {
		e := p.slot[p.y.class[l-1]]
		if e < 0 {
			continue
		}
		hasMatches = true
		if lines[e].line2 != noMatch {
			lines[e].line2 = nonUnique
		} else {
			lines[e].line2 = l
		}
	}
	// The slots are for the next range, which may be a gap of this one.
	for _, u := range lines {
		p.slot[p.x.class[u.line1-1]] = -1
	}
	return lines, hasMatches
}

// longestCommonSequence returns the longest run of lines unique in both
// ranges whose order agrees in both, by patience sorting
// (find_longest_common_sequence): tails[k] is the line with the smallest
// line2 that ends a run of length k+1.
func longestCommonSequence(lines []uniqueLine) []uniqueLine {
	var tails []int
	prev := make([]int, len(lines))
	for i, u := range lines {
		if u.line2 <= noMatch {
			continue
		}
		k := sort.Search(len(tails), func(m int) bool { return lines[tails[m]].line2 > u.line2 })
		prev[i] = -1
		if k > 0 {
			prev[i] = tails[k-1]
		}
		if k == len(tails) {
			tails = append(tails, i)
		} else {
			tails[k] = i
		}
	}
	if len(tails) == 0 {
		return nil
	}
	seq := make([]uniqueLine, len(tails))
	for k, i := len(tails)-1, tails[len(tails)-1]; k >= 0; k, i = k-1, prev[i] {
		seq[k] = lines[i]
	}
	return seq
}

// walk grows each anchor into the equal lines around it and diffs the
// gaps between them (walk_common_sequence).
func (p *patience) walk(anchors []uniqueLine, line1, count1, line2, count2 int) {
	end1, end2 := line1+count1, line2+count2
	h1, h2 := p.x.class, p.y.class
	for k := 0; ; k++ {
		next1, next2 := end1, end2
		if k < len(anchors) {
			next1, next2 = anchors[k].line1, anchors[k].line2
			for next1 > line1 && next2 > line2 && h1[next1-2] == h2[next2-2] {
				next1--
				next2--
			}
		}
		for line1 < next1 && line2 < next2 && h1[line1-1] == h2[line2-1] {
			line1++
			line2++
		}
		if next1 > line1 || next2 > line2 {
			p.diff(line1, next1-line1, line2, next2-line2)
		}
		if k == len(anchors) {
			return
		}
		for k+1 < len(anchors) && anchors[k+1].line1 == anchors[k].line1+1 && anchors[k+1].line2 == anchors[k].line2+1 {
			k++
		}
		line1, line2 = anchors[k].line1+1, anchors[k].line2+1
	}
}
