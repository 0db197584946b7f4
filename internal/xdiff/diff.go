package xdiff

import "bytes"

// Change is one hunk of an edit script: lines [I1, I1+Chg1) of the first
// file become lines [I2, I2+Chg2) of the second.
type Change struct {
	I1, I2, Chg1, Chg2 int
}

// Options are the xdiff flags strata uses.
type Options struct {
	// Histogram is git's --histogram (xhistogram.c), Patience git's
	// --patience (xpatience.c); Myers when neither is set.
	Histogram, Patience bool
	// Minimal is git's --minimal: Myers without the cut-offs that give
	// up on a shortest script when it costs too much (Myers, and the
	// Myers fallback of histogram and patience).
	Minimal bool
	// IndentHeuristic places an ambiguous run of added or removed lines
	// where indentation and blank lines suggest (git diff's default,
	// diff.indentHeuristic; merge-file does not use it).
	IndentHeuristic bool
}

// Diff returns the edit script from a to b, lines as SplitLines cuts
// them, as git's xdl_diff computes it with o's flags.
func Diff(a, b [][]byte, o Options) []Change {
	switch {
	case o.Histogram:
		return diffHistogram(a, b, o)
	case o.Patience:
		return diffPatience(a, b, o)
	}
	return diffMyers(a, b, o)
}

// side is one file of a diff, as xdiff's xdfile_t.
type side struct {
	lines [][]byte
	class []int  // equivalence class of each line; equal lines, equal class
	rchg  []bool // rchg[i+1]: line i is changed; sentinels at both ends
	// The lines left for the Myers pass after unique lines are discarded.
	rindex []int // their line numbers
	rclass []int // their classes
}

func (s *side) changed(i int) bool {
	if i < -1 || i > len(s.lines) {
		return false
	}
	return s.rchg[i+1]
}

// SplitLines cuts b after every newline; a last line without one is kept.
func SplitLines(b []byte) [][]byte {
	if len(b) == 0 {
		return nil
	}
	// Counted first: growing the slice by appending copies it a dozen
	// times on a big text.
	lines := make([][]byte, 0, bytes.Count(b, []byte{'\n'})+1)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			lines = append(lines, b)
			break
		}
		lines = append(lines, b[:i+1])
		b = b[i+1:]
	}
	return lines
}

// diffMyers is xdl_diff's default: Myers with xdiff's heuristics, then
// change compaction.
func diffMyers(a, b [][]byte, o Options) []Change {
	x, y := prepare(a, b)
	myers(x, y, o.Minimal)
	compact(x, y, o.IndentHeuristic)
	compact(y, x, o.IndentHeuristic)
	return buildScript(x, y)
}

// bogosqrt is xdiff's rough square root.
func bogosqrt(n int) int {
	i := 1
	for ; n > 0; n >>= 2 {
		i <<= 1
	}
	return i
}

// prepare classifies lines, trims the common ends and discards lines that
// cannot match (xdl_prepare_env with xdl_optimize_ctxs).
func prepare(a, b [][]byte) (*side, *side) {
	x, y, count := classifyPair(a, b)

	// Trim the common head and tail (xdl_trim_ends).
	n1, n2 := len(a), len(b)
	lim := min(n1, n2)
	start := 0
	for start < lim && x.class[start] == y.class[start] {
		start++
	}
	lim -= start
	tail := 0
	for tail < lim && x.class[n1-1-tail] == y.class[n2-1-tail] {
		tail++
	}
	cleanup(x, count[1], start, n1-tail-1)
	cleanup(y, count[0], start, n2-tail-1)
	return x, y
}

// cleanup keeps the lines of s in [start, end] that have a match in the
// other file, marks the others changed, and discards lines with many
// matches when they sit among unmatched ones (xdl_cleanup_records).
// other[c] is how many lines of the other file have class c.
func cleanup(s *side, other []int, start, end int) {
	mlim := min(bogosqrt(len(s.lines)), 1024)
	dis := make([]byte, len(s.lines)+1)
	s.rindex = make([]int, 0, max(end+1-start, 0))
	s.rclass = make([]int, 0, max(end+1-start, 0))
	for i := start; i <= end; i++ {
		nm := min(other[s.class[i]], mlim)
		switch {
		case nm == 0:
			dis[i] = 0
		case nm >= mlim:
			dis[i] = 2
		default:
			dis[i] = 1
		}
	}
	for i := start; i <= end; i++ {
		if dis[i] == 1 || (dis[i] == 2 && !cleanMultimatch(dis, i, start, end)) {
			s.rindex = append(s.rindex, i)
			s.rclass = append(s.rclass, s.class[i])
		} else {
			s.rchg[i+1] = true
		}
	}
}

// cleanMultimatch says whether the many-match line i lies in a run that
// is mostly unmatched lines (xdl_clean_mmatch).
func cleanMultimatch(dis []byte, i, s, e int) bool {
	const window, kpdisRun = 100, 4
	if i-s > window {
		s = i - window
	}
	if e-i > window {
		e = i + window
	}
	rdis0, rpdis0 := 0, 1
	for r := 1; i-r >= s; r++ {
		if dis[i-r] == 0 {
			rdis0++
		} else if dis[i-r] == 2 {
			rpdis0++
		} else {
			break
		}
	}
	if rdis0 == 0 {
		return false
	}
	rdis1, rpdis1 := 0, 1
	for r := 1; i+r <= e; r++ {
		if dis[i+r] == 0 {
			rdis1++
		} else if dis[i+r] == 2 {
			rpdis1++
		} else {
			break
		}
	}
	if rdis1 == 0 {
		return false
	}
	rdis1 += rdis0
	rpdis1 += rpdis0
	return rpdis1*kpdisRun < rpdis1+rdis1
}
