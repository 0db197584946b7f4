package xdiff

import "math"

// The Myers diff of xdiffi.c, with xdiff's heuristics: xdl_recs_cmp
// and xdl_split.

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
	// The lines up to the box's far corner, for the forward snakes, and
	// the box's own, for the backward ones: their bounds are then the
	// slices' lengths, and the compiler drops its index checks.
	h1, h2 := e.x.rclass[:lim1], e.y.rclass[:lim2]
	box1, box2 := h1[off1:], h2[off2:]
	kf, kb, ko := e.kvdf, e.kvdb, e.ko
	dmin, dmax := off1-lim2, lim1-off2
	fmid, bmid := off1-off2, lim1-lim2
	odd := (fmid-bmid)&1 != 0
	fmin, fmax := fmid, fmid
	bmin, bmax := bmid, bmid
	kf[ko+fmid] = off1
	kb[ko+bmid] = lim1

	for ec := 1; ; ec++ {
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
		longest := forwardSweep(kf[ko+fmin-1:ko+fmax+2], fmax, h1, h2)
		if odd {
			if d, ok := firstMeeting(kb, kf, ko, fmin, fmax, bmin, bmax); ok {
				return kf[ko+d], kf[ko+d] - d, true, true
			}
		}

		if bmin > dmin {
			bmin--
			kb[ko+bmin-1] = unreached
		} else {
			bmin++
		}
		if bmax < dmax {
			bmax++
			kb[ko+bmax+1] = unreached
		} else {
			bmax--
		}
		longest = max(longest, backwardSweep(kb[ko+bmin-1:ko+bmax+2], bmax-fmid, box1, box2, off1))
		if !odd {
			if d, ok := firstMeeting(kb, kf, ko, bmin, bmax, fmin, fmax); ok {
				return kb[ko+d], kb[ko+d] - d, true, true
			}
		}
		gotSnake := longest > snakeCnt

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

// forwardSweep moves the forward path on each diagonal d = fmax,
// fmax-2, ..., fmin one edit further, then down its snake (xdl_split's
// first loop), and returns the longest snake. k holds the paths' ends,
// x-indices, on diagonals fmin-1 to fmax+1; h1 and h2 end at the box's
// far corner.
//
// The sweeps are functions of their own, on slices cut to what they
// touch and without the test whether the searches met, so that the
// compiler keeps their variables in registers and drops the index
// checks: in split, the loops took twice git's instructions.
func forwardSweep(k []int, d int, h1, h2 []int) (longest int) {
	for ; len(k) >= 3; k, d = k[:len(k)-2], d-2 {
		w := k[len(k)-3:] // diagonals d-1, d, d+1
		// Down from diagonal d+1 or right from d-1, whichever is further.
		i1 := maxNoBranch(w[0]+1, w[2])
		prev, i2 := i1, i1-d
		for uint(i1) < uint(len(h1)) && uint(i2) < uint(len(h2)) && h1[i1] == h2[i2] {
			i1++
			i2++
		}
		longest = max(longest, i1-prev)
		w[1] = i1
	}
	return longest
}

// backwardSweep is forwardSweep from the box's far corner, on diagonals
// bmax down to bmin (xdl_split's second loop): h1 and h2 are the box's
// lines, from off1 and off2 on, and d counts from the box's corner,
// bmax-(off1-off2), so that off2 need not be at hand.
func backwardSweep(k []int, d int, h1, h2 []int, off1 int) (longest int) {
	for ; len(k) >= 3; k, d = k[:len(k)-2], d-2 {
		w := k[len(k)-3:]
		i1 := minNoBranch(w[0], w[2]-1)
		// The snake compares lines a and a-d, indices into h1 and h2.
		a := i1 - off1 - 1
		prev := a
		for uint(a) < uint(len(h1)) && uint(a-d) < uint(len(h2)) && h1[a] == h2[a-d] {
			a--
		}
		longest = max(longest, prev-a)
		w[1] = a + off1 + 1
	}
	return longest
}

// firstMeeting returns the first diagonal, from hi down to lo by 2, in
// the other search's [olo, ohi] too, where the forward path has reached
// the backward one (kb's end at or before kf's): where xdl_split's
// loops return.
func firstMeeting(kb, kf []int, ko, lo, hi, olo, ohi int) (int, bool) {
	// Both searches' diagonals share a parity here: hi's is ohi's.
	hi, lo = min(hi, ohi), max(lo, olo)
	if hi < lo {
		return 0, false
	}
	b := kb[ko+lo : ko+hi+1]
	f := kf[ko+lo : ko+hi+1]
	f = f[:len(b)]
	for j := len(b) - 1; j >= 0; j -= 2 {
		if b[j] <= f[j] {
			return lo + j, true
		}
	}
	return 0, false
}

// unreached is the backward search's sentinel: past every line, as
// xdiff's XDL_LINE_MAX, and far enough from overflow for minNoBranch.
const unreached = 1 << 62

// maxNoBranch and minNoBranch are max and min by arithmetic, for a-b
// that does not overflow. The sweeps' choice of diagonal is a coin toss
// on texts of few distinct lines; as a branch, which the compiler makes
// of max and min there, the processor mispredicted half of them.
func maxNoBranch(a, b int) int {
	c := a - b
	return b + c&^(c>>63)
}

func minNoBranch(a, b int) int {
	c := a - b
	return b + c&(c>>63)
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
