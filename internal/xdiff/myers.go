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
