package xdiff

import (
	"bytes"
	"math"
)

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
	// Myers fallback of patience).
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
	var lines [][]byte
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

// classifyPair gives equal lines of a and b one class, numbered in order
// of first appearance, a's lines first (xdl_classify_record), and counts
// each class's lines in each file.
func classifyPair(a, b [][]byte) (*side, *side, [2][]int) {
	ids := make(map[string]int, len(a)+len(b))
	var count [2][]int // per class, how many lines of each file have it
	classify := func(lines [][]byte, which int) []int {
		cl := make([]int, len(lines))
		for i, l := range lines {
			id, ok := ids[string(l)]
			if !ok {
				id = len(ids)
				ids[string(l)] = id
				count[0] = append(count[0], 0)
				count[1] = append(count[1], 0)
			}
			count[which][id]++
			cl[i] = id
		}
		return cl
	}
	x := &side{lines: a, class: classify(a, 0), rchg: make([]bool, len(a)+2)}
	y := &side{lines: b, class: classify(b, 1), rchg: make([]bool, len(b)+2)}
	return x, y, count
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

const (
	snakeCnt   = 20  // XDL_SNAKE_CNT
	heurMin    = 256 // XDL_HEUR_MIN_COST
	maxCostMin = 256 // XDL_MAX_COST_MIN
	kHeur      = 4   // XDL_K_HEUR
)

// myersEnv holds the state xdl_recs_cmp shares down its recursion. The
// diagonal vectors are reused across calls, as in xdiff, so that every
// read sees what xdiff's would.
type myersEnv struct {
	x, y       *side
	kvdf, kvdb []int
	ko         int // offset of diagonal 0 in kvdf and kvdb
	mxcost     int
}

func myers(x, y *side, minimal bool) {
	ndiags := len(x.rindex) + len(y.rindex) + 3
	kvd := make([]int, 2*ndiags+2)
	e := &myersEnv{
		x: x, y: y,
		kvdf:   kvd[:ndiags],
		kvdb:   kvd[ndiags:],
		ko:     len(y.rindex) + 1,
		mxcost: max(bogosqrt(ndiags), maxCostMin),
	}
	e.recsCmp(0, len(x.rindex), 0, len(y.rindex), minimal)
}

// recsCmp marks the changed lines between the boxes' corners, dividing
// the box at a middle snake (xdl_recs_cmp).
func (e *myersEnv) recsCmp(off1, lim1, off2, lim2 int, needMin bool) {
	h1, h2 := e.x.rclass, e.y.rclass
	for off1 < lim1 && off2 < lim2 && h1[off1] == h2[off2] {
		off1++
		off2++
	}
	for off1 < lim1 && off2 < lim2 && h1[lim1-1] == h2[lim2-1] {
		lim1--
		lim2--
	}
	switch {
	case off1 == lim1:
		for ; off2 < lim2; off2++ {
			e.y.rchg[e.y.rindex[off2]+1] = true
		}
	case off2 == lim2:
		for ; off1 < lim1; off1++ {
			e.x.rchg[e.x.rindex[off1]+1] = true
		}
	default:
		i1, i2, minLo, minHi := e.split(off1, lim1, off2, lim2, needMin)
		e.recsCmp(off1, i1, off2, i2, minLo)
		e.recsCmp(i1, lim1, i2, lim2, minHi)
	}
}

// split finds where to divide the box (xdl_split): the middle snake, or,
// when that gets expensive, a good-enough point by xdiff's heuristics.
func (e *myersEnv) split(off1, lim1, off2, lim2 int, needMin bool) (int, int, bool, bool) {
	// Cut at the box's far corner: the forward snake's bounds are then
	// the slices' lengths, and the compiler drops its index checks.
	h1, h2 := e.x.rclass[:lim1], e.y.rclass[:lim2]
	kf, kb, ko := e.kvdf, e.kvdb, e.ko
	dmin, dmax := off1-lim2, lim1-off2
	fmid, bmid := off1-off2, lim1-lim2
	odd := (fmid-bmid)&1 != 0
	fmin, fmax := fmid, fmid
	bmin, bmax := bmid, bmid
	kf[ko+fmid] = off1
	kb[ko+bmid] = lim1

	for ec := 1; ; ec++ {
		gotSnake := false
		// Widen the diagonal range by one, or shrink it at the box edge;
		// the sentinel outside saves bounds checks below.
		if fmin > dmin {
			fmin--
			kf[ko+fmin-1] = -1
		} else {
			fmin++
		}
		if fmax < dmax {
			fmax++
			kf[ko+fmax+1] = -1
		} else {
			fmax--
		}
		for d := fmax; d >= fmin; d -= 2 {
			var i1 int
			if kf[ko+d-1] >= kf[ko+d+1] {
				i1 = kf[ko+d-1] + 1
			} else {
				i1 = kf[ko+d+1]
			}
			prev1 := i1
			i2 := i1 - d
			for uint(i1) < uint(len(h1)) && uint(i2) < uint(len(h2)) && h1[i1] == h2[i2] {
				i1++
				i2++
			}
			if i1-prev1 > snakeCnt {
				gotSnake = true
			}
			kf[ko+d] = i1
			if odd && bmin <= d && d <= bmax && kb[ko+d] <= i1 {
				return i1, i2, true, true
			}
		}

		if bmin > dmin {
			bmin--
			kb[ko+bmin-1] = math.MaxInt
		} else {
			bmin++
		}
		if bmax < dmax {
			bmax++
			kb[ko+bmax+1] = math.MaxInt
		} else {
			bmax--
		}
		for d := bmax; d >= bmin; d -= 2 {
			var i1 int
			if kb[ko+d-1] < kb[ko+d+1] {
				i1 = kb[ko+d-1]
			} else {
				i1 = kb[ko+d+1] - 1
			}
			prev1 := i1
			i2 := i1 - d
			for i1 > off1 && i2 > off2 && h1[i1-1] == h2[i2-1] {
				i1--
				i2--
			}
			if prev1-i1 > snakeCnt {
				gotSnake = true
			}
			kb[ko+d] = i1
			if !odd && fmin <= d && d <= fmax && i1 <= kf[ko+d] {
				return i1, i2, true, true
			}
		}

		if needMin {
			continue
		}

		// Past the heuristic threshold, take a diagonal that has come
		// far along a long snake.
		if gotSnake && ec > heurMin {
			best, s1, s2 := 0, 0, 0
			for d := fmax; d >= fmin; d -= 2 {
				dd := abs(d - fmid)
				i1 := kf[ko+d]
				i2 := i1 - d
				v := (i1 - off1) + (i2 - off2) - dd
				if v > kHeur*ec && v > best &&
					off1+snakeCnt <= i1 && i1 < lim1 &&
					off2+snakeCnt <= i2 && i2 < lim2 {
					for k := 1; h1[i1-k] == h2[i2-k]; k++ {
						if k == snakeCnt {
							best, s1, s2 = v, i1, i2
							break
						}
					}
				}
			}
			if best > 0 {
				return s1, s2, true, false
			}
			best = 0
			for d := bmax; d >= bmin; d -= 2 {
				dd := abs(d - bmid)
				i1 := kb[ko+d]
				i2 := i1 - d
				v := (lim1 - i1) + (lim2 - i2) - dd
				if v > kHeur*ec && v > best &&
					off1 < i1 && i1 <= lim1-snakeCnt &&
					off2 < i2 && i2 <= lim2-snakeCnt {
					for k := 0; h1[i1+k] == h2[i2+k]; k++ {
						if k == snakeCnt-1 {
							best, s1, s2 = v, i1, i2
							break
						}
					}
				}
			}
			if best > 0 {
				return s1, s2, false, true
			}
		}

		// Too expensive: take the furthest-reaching path so far.
		if ec >= e.mxcost {
			fbest, fbest1 := -1, -1
			for d := fmax; d >= fmin; d -= 2 {
				i1 := min(kf[ko+d], lim1)
				i2 := i1 - d
				if lim2 < i2 {
					i1, i2 = lim2+d, lim2
				}
				if fbest < i1+i2 {
					fbest, fbest1 = i1+i2, i1
				}
			}
			bbest, bbest1 := math.MaxInt, math.MaxInt
			for d := bmax; d >= bmin; d -= 2 {
				i1 := max(off1, kb[ko+d])
				i2 := i1 - d
				if i2 < off2 {
					i1, i2 = off2+d, off2
				}
				if i1+i2 < bbest {
					bbest, bbest1 = i1+i2, i1
				}
			}
			if (lim1+lim2)-bbest < fbest-(off1+off2) {
				return fbest1, fbest - fbest1, true, false
			}
			return bbest1, bbest - bbest1, false, true
		}
	}
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
