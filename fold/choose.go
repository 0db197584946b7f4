package fold

import "sort"

// span is a run of layers, [from, to).
type span struct{ from, to int }

// candidates lists the runs to fold, best first: the aligned runs, the
// lowest level first and the topmost first within a level (see the
// package doc); then, for a chain with none, the runs of least weight,
// topmost first.
func candidates(weights []int64) []span {
	pos := make([]int64, len(weights))
	var p int64
	for i, w := range weights {
		pos[i] = p
		p += w
	}
	type aligned struct {
		level int
		s     span
	}
	var found []aligned
	for i := len(weights) - Fanout; i >= 0; i-- {
		w := weights[i]
		level, ok := levelOf(w)
		if !ok || pos[i]%(w*Fanout) != 0 || !allEqual(weights[i:i+Fanout], w) {
			continue
		}
		found = append(found, aligned{level, span{i, i + Fanout}})
	}
	sort.SliceStable(found, func(a, b int) bool { return found[a].level < found[b].level })
	var out []span
	for _, a := range found {
		out = append(out, a.s)
	}
	if len(out) == 0 {
		out = lightest(weights)
	}
	return out
}

// choose returns the run to fold: the first candidate.
func choose(weights []int64) (span, bool) {
	c := candidates(weights)
	if len(c) == 0 {
		return span{}, false
	}
	return c[0], true
}

// lightest lists the runs of Fanout layers by total weight, least
// first, the topmost first among equals.
func lightest(weights []int64) []span {
	var out []span
	for i := len(weights) - Fanout; i >= 0; i-- {
		out = append(out, span{i, i + Fanout})
	}
	total := func(s span) int64 { return sum(weights[s.from:s.to]) }
	sort.SliceStable(out, func(a, b int) bool { return total(out[a]) < total(out[b]) })
	return out
}

// levelOf returns k for w = Fanout^k.
func levelOf(w int64) (int, bool) {
	k := 0
	for v := int64(1); v <= w; v *= Fanout {
		if v == w {
			return k, true
		}
		k++
	}
	return 0, false
}

func allEqual(ws []int64, w int64) bool {
	for _, x := range ws {
		if x != w {
			return false
		}
	}
	return true
}
