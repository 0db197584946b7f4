package xdiff

// The histogram diff git merge uses for the files of a tree (merge-ort
// sets it, whatever diff.algorithm says), as xdiff's xhistogram.c: the
// longest common run of lines that are rare in the first file splits
// the range, recursively; a range whose lines are all too common falls
// back to the Myers diff.

// maxChainLength is xhistogram.c's MAX_CHAIN_LENGTH: lines that occur
// more often than this cannot anchor a split.
const maxChainLength = 64

// diffHistogram is diffMyers with git's histogram algorithm.
func diffHistogram(a, b [][]byte, o Options) []Change {
	x, y, _ := classifyPair(a, b)
	ix := &histIndex{x: x, y: y, minimal: o.Minimal}
	if !ix.diff(1, len(a), 1, len(b)) {
		// Too many distinct lines in one hash bucket: git's diff fails
		// there; Myers still finds a diff.
		return diffMyers(a, b, o)
	}
	compact(x, y, o.IndentHeuristic)
	compact(y, x, o.IndentHeuristic)
	return buildScript(x, y)
}

// histRecord is one distinct line of the first file's range: ptr its
// first occurrence (1-based), cnt how many there are.
type histRecord struct {
	ptr, cnt int
	next     int // the next record in the same hash bucket, as an index (-1: none)
}

// region is a common run: lines [begin1, end1] of x match [begin2, end2]
// of y (1-based, inclusive; all zero: none found).
type region struct{ begin1, end1, begin2, end2 int }

// histIndex is xhistogram.c's struct histindex over x's lines
// [ptrShift, ptrShift+count1). Its slices are reused from one range to
// the next: a long file is split hundreds of times.
type histIndex struct {
	x, y      *side
	minimal   bool // the Myers fallback is --minimal's, as git's
	recs      []histRecord
	buckets   []int // per hash, the first record's index (-1: none)
	lineMap   []int // per line of the range, its record's index
	nextPtrs  []int // per line, the next line equal to it (0: none)
	tableBits uint
	ptrShift  int
	cnt       int
	hasCommon bool
}

// hashbits is xdl_hashbits: the bits of a table of at least size slots.
func hashbits(size int) uint {
	var bits uint
	for val := 1; val < size && bits < 32; val <<= 1 {
		bits++
	}
	return max(bits, 1)
}

// hashlong is XDL_HASHLONG.
func hashlong(v int, bits uint) int {
	u := uint64(v)
	return int((u + (u >> bits)) & (1<<bits - 1))
}

func (ix *histIndex) class1(line int) int { return ix.x.class[line-1] }
func (ix *histIndex) class2(line int) int { return ix.y.class[line-1] }

// reset readies the index for x's lines [line1, line1+count1).
func (ix *histIndex) reset(line1, count1 int) {
	ix.tableBits = hashbits(count1)
	ix.buckets = resize(ix.buckets, 1<<ix.tableBits)
	for i := range ix.buckets {
		ix.buckets[i] = -1
	}
	ix.lineMap = resize(ix.lineMap, count1)
	ix.nextPtrs = resize(ix.nextPtrs, count1)
	clear(ix.nextPtrs)
	ix.recs = ix.recs[:0]
	ix.ptrShift, ix.cnt, ix.hasCommon = line1, 0, false
}

func resize(s []int, n int) []int {
	if cap(s) < n {
		return make([]int, n)
	}
	return s[:n]
}

// scanA indexes x's lines of the range, last to first (scanA); false
// when a bucket overflows.
func (ix *histIndex) scanA(line1, count1 int) bool {
outer:
	for ptr := line1 + count1 - 1; ptr >= line1; ptr-- {
		slot := &ix.buckets[hashlong(ix.class1(ptr), ix.tableBits)]
		chain := 0
		for r := *slot; r >= 0; r = ix.recs[r].next {
			rec := &ix.recs[r]
			if ix.class1(rec.ptr) == ix.class1(ptr) {
				ix.nextPtrs[ptr-ix.ptrShift] = rec.ptr
				rec.ptr = ptr
				rec.cnt++
				ix.lineMap[ptr-ix.ptrShift] = r
				continue outer
			}
			chain++
		}
		if chain == maxChainLength {
			return false
		}
		ix.recs = append(ix.recs, histRecord{ptr: ptr, cnt: 1, next: *slot})
		*slot = len(ix.recs) - 1
		ix.lineMap[ptr-ix.ptrShift] = *slot
	}
	return true
}

// tryLCS extends every match of y's line bPtr into a common run and
// keeps the longest of the rarest (try_lcs); it returns the next line of
// y to try.
func (ix *histIndex) tryLCS(lcs *region, bPtr, line1, count1, line2, count2 int) int {
	bNext := bPtr + 1
	end1, end2 := line1+count1-1, line2+count2-1
	for r := ix.buckets[hashlong(ix.class2(bPtr), ix.tableBits)]; r >= 0; r = ix.recs[r].next {
		rec := &ix.recs[r]
		if rec.cnt > ix.cnt {
			if !ix.hasCommon {
				ix.hasCommon = ix.class1(rec.ptr) == ix.class2(bPtr)
			}
			continue
		}
		as := rec.ptr
		if ix.class1(as) != ix.class2(bPtr) {
			continue
		}
		ix.hasCommon = true
		for {
			np := ix.nextPtrs[as-ix.ptrShift]
			bs, ae, be, rc := bPtr, as, bPtr, rec.cnt
			for line1 < as && line2 < bs && ix.class1(as-1) == ix.class2(bs-1) {
				as--
				bs--
				if rc > 1 {
					rc = min(rc, ix.recs[ix.lineMap[as-ix.ptrShift]].cnt)
				}
			}
			for ae < end1 && be < end2 && ix.class1(ae+1) == ix.class2(be+1) {
				ae++
				be++
				if rc > 1 {
					rc = min(rc, ix.recs[ix.lineMap[ae-ix.ptrShift]].cnt)
				}
			}
			if bNext <= be {
				bNext = be + 1
			}
			if lcs.end1-lcs.begin1 < ae-as || rc < ix.cnt {
				*lcs = region{begin1: as, end1: ae, begin2: bs, end2: be}
				ix.cnt = rc
			}
			if np == 0 {
				break
			}
			for np != 0 && np <= ae {
				np = ix.nextPtrs[np-ix.ptrShift]
			}
			if np == 0 {
				break
			}
			as = np
		}
	}
	return bNext
}

// findLCS returns the split region of the range (find_lcs): found 0, a
// region; 1, fall back to Myers; -1, a bucket overflowed.
func (ix *histIndex) findLCS(line1, count1, line2, count2 int) (region, int) {
	ix.reset(line1, count1)
	var lcs region
	if !ix.scanA(line1, count1) {
		return lcs, -1
	}
	ix.cnt = maxChainLength + 1
	for b := line2; b <= line2+count2-1; {
		b = ix.tryLCS(&lcs, b, line1, count1, line2, count2)
	}
	if ix.hasCommon && maxChainLength < ix.cnt {
		return lcs, 1
	}
	return lcs, 0
}

// diff marks the changed lines of x's [line1, line1+count1) against y's
// [line2, line2+count2), 1-based (histogram_diff); false when a bucket
// overflowed.
func (ix *histIndex) diff(line1, count1, line2, count2 int) bool {
	x, y := ix.x, ix.y
	for {
		if count1 <= 0 && count2 <= 0 {
			return true
		}
		if count1 == 0 {
			markChanged(y, line2, count2)
			return true
		}
		if count2 == 0 {
			markChanged(x, line1, count1)
			return true
		}
		lcs, found := ix.findLCS(line1, count1, line2, count2)
		switch {
		case found < 0:
			return false
		case found > 0:
			classicRange(x, y, line1, count1, line2, count2, ix.minimal)
			return true
		case lcs.begin1 == 0 && lcs.begin2 == 0:
			markChanged(x, line1, count1)
			markChanged(y, line2, count2)
			return true
		}
		if !ix.diff(line1, lcs.begin1-line1, line2, lcs.begin2-line2) {
			return false
		}
		end1, end2 := line1+count1-1, line2+count2-1
		line1, count1 = lcs.end1+1, end1-lcs.end1
		line2, count2 = lcs.end2+1, end2-lcs.end2
	}
}

// markChanged marks count lines of s from line (1-based) changed.
func markChanged(s *side, line, count int) {
	for i := range count {
		s.rchg[line+i] = true
	}
}

// classicRange diffs the range with Myers, as a diff of its own
// (xdl_fall_back_diff), and copies the changed marks.
func classicRange(x, y *side, line1, count1, line2, count2 int, minimal bool) {
	sx, sy := prepare(x.lines[line1-1:line1-1+count1], y.lines[line2-1:line2-1+count2])
	myers(sx, sy, minimal)
	copy(x.rchg[line1:line1+count1], sx.rchg[1:1+count1])
	copy(y.rchg[line2:line2+count2], sy.rchg[1:1+count2])
}
