package xdiff

// Change compaction and the edit script, as xdiffi.c's xdl_change_compact
// and xdl_build_script.

// group is a run [start, end) of changed lines, possibly empty.
type group struct{ start, end int }

func groupInit(s *side) group {
	g := group{}
	for s.changed(g.end) {
		g.end++
	}
	return g
}

func groupNext(s *side, g *group) bool {
	if g.end == len(s.lines) {
		return false
	}
	g.start = g.end + 1
	for g.end = g.start; s.changed(g.end); g.end++ {
	}
	return true
}

func groupPrevious(s *side, g *group) bool {
	if g.start == 0 {
		return false
	}
	g.end = g.start - 1
	for g.start = g.end; s.changed(g.start - 1); g.start-- {
	}
	return true
}

func groupSlideDown(s *side, g *group) bool {
	if g.end < len(s.lines) && s.class[g.start] == s.class[g.end] {
		s.rchg[g.start+1] = false
		s.rchg[g.end+1] = true
		g.start++
		g.end++
		for s.changed(g.end) {
			g.end++
		}
		return true
	}
	return false
}

func groupSlideUp(s *side, g *group) bool {
	if g.start > 0 && s.class[g.start-1] == s.class[g.end-1] {
		g.start--
		g.end--
		s.rchg[g.start+1] = true
		s.rchg[g.end+1] = false
		for s.changed(g.start - 1) {
			g.start--
		}
		return true
	}
	return false
}

// compact slides each group of changes in s as far down as it goes,
// merging groups it meets, then back up to line up with a change in o if
// it can, or else, with indent, to where the indent heuristic scores best
// (xdl_change_compact).
func compact(s, o *side, indent bool) {
	g, og := groupInit(s), groupInit(o)
	for {
		if g.end != g.start {
			compactGroup(s, o, &g, &og, indent)
		}
		if !groupNext(s, &g) {
			break
		}
		groupNext(o, &og)
	}
}

// compactGroup places the group g of s; og is the group of o beside it.
func compactGroup(s, o *side, g, og *group, indent bool) {
	var size, earliestEnd, endMatchingOther int
	for {
		size = g.end - g.start
		endMatchingOther = -1
		for groupSlideUp(s, g) {
			groupPrevious(o, og)
		}
		earliestEnd = g.end
		if og.end > og.start {
			endMatchingOther = g.end
		}
		for groupSlideDown(s, g) {
			groupNext(o, og)
			if og.end > og.start {
				endMatchingOther = g.end
			}
		}
		if size == g.end-g.start {
			break // it merged no other group: its place is free
		}
	}
	switch {
	case g.end == earliestEnd: // it cannot move
	case endMatchingOther != -1:
		for og.end == og.start {
			groupSlideUp(s, g)
			groupPrevious(o, og)
		}
	case indent:
		best := bestShift(s, g.end, size, earliestEnd)
		for g.end > best {
			groupSlideUp(s, g)
			groupPrevious(o, og)
		}
	}
}

// buildScript collects the changed runs into hunks, in file order.
func buildScript(x, y *side) []Change {
	var rev []Change
	for i1, i2 := len(x.lines), len(y.lines); i1 >= 0 || i2 >= 0; i1, i2 = i1-1, i2-1 {
		if x.changed(i1-1) || y.changed(i2-1) {
			l1, l2 := i1, i2
			for x.changed(i1 - 1) {
				i1--
			}
			for y.changed(i2 - 1) {
				i2--
			}
			rev = append(rev, Change{I1: i1, I2: i2, Chg1: l1 - i1, Chg2: l2 - i2})
		}
	}
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	return rev
}
