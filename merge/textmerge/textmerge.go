// Package textmerge merges three versions of a text file as git
// merge-file does, writing conflict markers where both sides changed the
// same lines.
//
// The output is byte for byte that of `git merge-file -p` (git 2.39, no
// configuration): the same line diff (internal/xdiff follows xdiff's Myers
// variant and change compaction), the same conflict refinement (the
// "zealous alnum" level merge-file uses; diff3 style falls back to
// "eager", as git does; zdiff3 style only trims the lines both sides
// share at a conflict's ends) and the same markers, including CRLF
// markers in CRLF files and a newline added after a conflicting last line
// that has none. Tests compare with git merge-file on random inputs.
// With Histogram and NoAlnumJoin, it is what git merge (ort) writes in a
// file both branches changed: the histogram diff (xdiff's) and no
// joining of conflicts across lines without letters or digits; tests
// compare with git merge-tree.
//
// Deliberate differences: git merge-file refuses binary input (a NUL in
// the first 8000 bytes) and files over 1 GiB; Merge merges them line by
// line like any other, and leaves that policy to its callers. Result's
// Conflicts is the true count; git's exit status stops at 127.
package textmerge

import (
	"bytes"

	"github.com/strata-sh/strata/internal/xdiff"
)

// Options label the conflict markers.
type Options struct {
	Ours, Base, Theirs string // marker labels, as git merge-file -L
	Diff3              bool   // also show the base's lines (merge.conflictStyle=diff3)
	// ZDiff3 shows the base's lines too, but moves the lines both sides
	// begin or end a conflict with out of it (merge.conflictStyle=zdiff3).
	ZDiff3 bool
	// Favor resolves every conflict without markers, as git merge-file
	// --ours, --theirs and --union: FavorOurs or FavorTheirs takes that
	// side's lines, FavorUnion ours' then theirs'. The result then has no
	// conflicts.
	Favor Favor
	// MarkerSize is the length of the conflict markers; 7 if 0 or less
	// (git merge-file --marker-size).
	MarkerSize int
	// Histogram diffs with git's histogram algorithm, as git merge does
	// for the files of a tree (merge-ort); git merge-file diffs with
	// Myers.
	Histogram bool
	// NoAlnumJoin leaves apart two conflicts that only lines without a
	// letter or digit separate (more than three of them), as git merge
	// does for the files of a tree (ll-merge's XDL_MERGE_ZEALOUS); git
	// merge-file joins them (XDL_MERGE_ZEALOUS_ALNUM).
	NoAlnumJoin bool
}

// Favor is how conflicts are resolved (xdiff's XDL_MERGE_FAVOR_*).
type Favor int

const (
	FavorNone   Favor = 0
	FavorOurs   Favor = modeOurs
	FavorTheirs Favor = modeTheirs
	FavorUnion  Favor = modeOurs | modeTheirs
)

// Result is a merge's output and how many conflicts it marks.
type Result struct {
	Content   []byte
	Conflicts int
}

// Merge levels, as xdiff's XDL_MERGE_*.
const (
	levelEager        = 1 // identical changes on both sides do not conflict
	levelZealous      = 2 // conflicts are narrowed to the lines that differ
	levelZealousAlnum = 3 // and conflicts split only by lines without letters or digits are joined
)

// Hunk modes, as xdiff's xdmerge_t.mode.
const (
	modeConflict  = 0
	modeOurs      = 1 // only ours changed these lines
	modeTheirs    = 2 // only theirs changed these lines
	modeIdentical = 4 // a conflict that refinement found to be the same change
)

// hunk is a region of the merge. [i0, i0+chg0) are base lines,
// [i1, i1+chg1) ours and [i2, i2+chg2) theirs.
type hunk struct {
	mode                         int
	i0, chg0, i1, chg1, i2, chg2 int
}

// IsBinary is git's test of a file it will not merge line by line
// (buffer_is_binary): a NUL in the first 8000 bytes. Nothing else: a long
// text is merged as git merges it.
func IsBinary(b []byte) bool {
	return bytes.IndexByte(b[:min(len(b), 8000)], 0) >= 0
}

// Merge merges ours and theirs, both changed from base.
func Merge(base, ours, theirs []byte, o Options) Result {
	b, x, y := xdiff.SplitLines(base), xdiff.SplitLines(ours), xdiff.SplitLines(theirs)
	diff := func(a, b [][]byte) []xdiff.Change { return xdiff.Diff(a, b, xdiff.Options{Histogram: o.Histogram}) }
	s1 := diff(b, x)
	s2 := diff(b, y)
	// One side unchanged: the other is the result, verbatim.
	if len(s1) == 0 {
		return Result{Content: bytes.Clone(theirs)}
	}
	if len(s2) == 0 {
		return Result{Content: bytes.Clone(ours)}
	}
	level := levelZealousAlnum
	if o.NoAlnumJoin {
		level = levelZealous
	}
	if o.Diff3 {
		// Showing the base only makes sense for whole overlapping hunks.
		level = levelEager
	}
	hs := collect(b, x, y, s1, s2)
	switch {
	case o.ZDiff3:
		// Only the ends of a conflict are refined: the base shown
		// must still be the whole conflict's (xdl_refine_zdiff3_conflicts).
		trimCommonEnds(x, y, hs)
	case level >= levelZealous:
		hs = refine(x, y, hs, diff)
		hs = simplify(x, hs, level > levelZealous)
	}
	n := 0
	for i := range hs {
		if hs[i].mode == modeConflict {
			if o.Favor != FavorNone {
				// As xdl_fill_merge_buffer: after refinement and
				// joining, so a joined conflict is favored whole.
				hs[i].mode = int(o.Favor)
				continue
			}
			n++
		}
	}
	return Result{Content: render(b, x, y, hs, o), Conflicts: n}
}

// collect walks both edit scripts in base order; hunks that overlap or
// touch become conflicts unless both sides made the identical change
// (xdl_do_merge).
func collect(b, x, y [][]byte, s1, s2 []xdiff.Change) []hunk {
	var hs []hunk
	add := func(h hunk) {
		if n := len(hs); n > 0 {
			m := &hs[n-1]
			if h.i1 <= m.i1+m.chg1 || h.i2 <= m.i2+m.chg2 {
				if h.mode != m.mode {
					m.mode = modeConflict
				}
				m.chg0 = h.i0 + h.chg0 - m.i0
				m.chg1 = h.i1 + h.chg1 - m.i1
				m.chg2 = h.i2 + h.chg2 - m.i2
				return
			}
		}
		hs = append(hs, h)
	}
	for len(s1) > 0 && len(s2) > 0 {
		c1, c2 := s1[0], s2[0]
		if c1.I1+c1.Chg1 < c2.I1 {
			add(hunk{modeOurs, c1.I1, c1.Chg1, c1.I2, c1.Chg2, c2.I2 - c2.I1 + c1.I1, c1.Chg1})
			s1 = s1[1:]
			continue
		}
		if c2.I1+c2.Chg1 < c1.I1 {
			add(hunk{modeTheirs, c2.I1, c2.Chg1, c1.I2 - c1.I1 + c2.I1, c2.Chg1, c2.I2, c2.Chg2})
			s2 = s2[1:]
			continue
		}
		if c1.I1 != c2.I1 || c1.Chg1 != c2.Chg1 || c1.Chg2 != c2.Chg2 ||
			!equalLines(x[c1.I2:c1.I2+c1.Chg2], y[c2.I2:c2.I2+c2.Chg2]) {
			// Widen both sides to cover the union of the base ranges.
			off := c1.I1 - c2.I1
			ffo := off + c1.Chg1 - c2.Chg1
			i0, i1, i2 := c1.I1, c1.I2, c2.I2
			if off > 0 {
				i0 -= off
				i1 -= off
			} else {
				i2 += off
			}
			chg0 := c1.I1 + c1.Chg1 - i0
			chg1 := c1.I2 + c1.Chg2 - i1
			chg2 := c2.I2 + c2.Chg2 - i2
			if ffo < 0 {
				chg0 -= ffo
				chg1 -= ffo
			} else {
				chg2 += ffo
			}
			add(hunk{modeConflict, i0, chg0, i1, chg1, i2, chg2})
		}
		e1, e2 := c1.I1+c1.Chg1, c2.I1+c2.Chg1
		if e1 >= e2 {
			s2 = s2[1:]
		}
		if e2 >= e1 {
			s1 = s1[1:]
		}
	}
	for _, c1 := range s1 {
		add(hunk{modeOurs, c1.I1, c1.Chg1, c1.I2, c1.Chg2, c1.I1 + len(y) - len(b), c1.Chg1})
	}
	for _, c2 := range s2 {
		add(hunk{modeTheirs, c2.I1, c2.Chg1, c2.I1 + len(x) - len(b), c2.Chg1, c2.I2, c2.Chg2})
	}
	return hs
}

func equalLines(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// refine diffs ours against theirs inside each conflict and keeps only
// the differing runs as conflicts (xdl_refine_conflicts).
func refine(x, y [][]byte, hs []hunk, diff func(a, b [][]byte) []xdiff.Change) []hunk {
	out := make([]hunk, 0, len(hs))
	for _, m := range hs {
		if m.mode != modeConflict || m.chg1 == 0 || m.chg2 == 0 {
			out = append(out, m)
			continue
		}
		sc := diff(x[m.i1:m.i1+m.chg1], y[m.i2:m.i2+m.chg2])
		if len(sc) == 0 {
			m.mode = modeIdentical
			out = append(out, m)
			continue
		}
		for _, c := range sc {
			// The base range no longer fits the split hunks; it is only
			// shown in diff3 style, which is never refined.
			out = append(out, hunk{mode: modeConflict, i0: m.i0, chg0: m.chg0,
				i1: m.i1 + c.I1, chg1: c.Chg1, i2: m.i2 + c.I2, chg2: c.Chg2})
		}
	}
	return out
}

// trimCommonEnds moves the lines both sides of a conflict begin or end
// with out of it, for zdiff3.
func trimCommonEnds(x, y [][]byte, hs []hunk) {
	for i := range hs {
		m := &hs[i]
		if m.mode != modeConflict {
			continue
		}
		for m.chg1 > 0 && m.chg2 > 0 && bytes.Equal(x[m.i1], y[m.i2]) {
			m.chg1--
			m.chg2--
			m.i1++
			m.i2++
		}
		for m.chg1 > 0 && m.chg2 > 0 && bytes.Equal(x[m.i1+m.chg1-1], y[m.i2+m.chg2-1]) {
			m.chg1--
			m.chg2--
		}
	}
}

// simplify joins conflicts separated by three lines or fewer, or (alnum)
// by lines with no letter or digit: one bigger conflict reads more easily
// (xdl_simplify_non_conflicts).
func simplify(x [][]byte, hs []hunk, alnum bool) []hunk {
	if len(hs) == 0 {
		return hs
	}
	out := hs[:1]
	for _, next := range hs[1:] {
		m := &out[len(out)-1]
		begin, end := m.i1+m.chg1, next.i1
		if m.mode != modeConflict || next.mode != modeConflict ||
			(end-begin > 3 && (!alnum || containsAlnum(x[begin:end]))) {
			out = append(out, next)
			continue
		}
		m.chg1 = next.i1 + next.chg1 - m.i1
		m.chg2 = next.i2 + next.chg2 - m.i2
	}
	return out
}

// containsAlnum uses ASCII letters and digits only, as git's ctype.
func containsAlnum(lines [][]byte) bool {
	for _, l := range lines {
		for _, c := range l {
			if c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
				return true
			}
		}
	}
	return false
}

const markerSize = 7

// render writes the merged file (xdl_fill_merge_buffer). Lines outside
// hunks and identical changes are copied from ours.
func render(b, x, y [][]byte, hs []hunk, o Options) []byte {
	var w bytes.Buffer
	size := o.MarkerSize
	if size <= 0 {
		size = markerSize
	}
	marker := func(w *bytes.Buffer, c byte, label string, labelled, cr bool) {
		writeMarker(w, size, c, label, labelled, cr)
	}
	i := 0
	for _, m := range hs {
		switch m.mode {
		case modeConflict:
			writeLines(&w, x[i:m.i1], false, false)
			cr := crNeeded(b, x, y, m)
			marker(&w, '<', o.Ours, true, cr)
			writeLines(&w, x[m.i1:m.i1+m.chg1], cr, true)
			if o.Diff3 || o.ZDiff3 {
				marker(&w, '|', o.Base, true, cr)
				writeLines(&w, b[m.i0:m.i0+m.chg0], cr, true)
			}
			marker(&w, '=', "", false, cr)
			writeLines(&w, y[m.i2:m.i2+m.chg2], cr, true)
			marker(&w, '>', o.Theirs, true, cr)
		case modeOurs:
			writeLines(&w, x[i:m.i1+m.chg1], false, false)
		case modeOurs | modeTheirs:
			// --union: ours' lines, with a newline if the last has
			// none, then theirs'.
			writeLines(&w, x[i:m.i1], false, false)
			writeLines(&w, x[m.i1:m.i1+m.chg1], crNeeded(b, x, y, m), true)
			writeLines(&w, y[m.i2:m.i2+m.chg2], false, false)
		case modeTheirs:
			writeLines(&w, x[i:m.i1], false, false)
			writeLines(&w, y[m.i2:m.i2+m.chg2], false, false)
		default:
			continue
		}
		i = m.i1 + m.chg1
	}
	writeLines(&w, x[i:], false, false)
	return w.Bytes()
}

func writeMarker(w *bytes.Buffer, size int, c byte, label string, labelled, cr bool) {
	for range size {
		w.WriteByte(c)
	}
	if labelled {
		w.WriteByte(' ')
		w.WriteString(label)
	}
	if cr {
		w.WriteByte('\r')
	}
	w.WriteByte('\n')
}

// writeLines copies lines; with addNL, a last line without a newline gets
// one, so that the marker after it starts a line.
func writeLines(w *bytes.Buffer, lines [][]byte, cr, addNL bool) {
	for _, l := range lines {
		w.Write(l)
	}
	if addNL && len(lines) > 0 {
		if l := lines[len(lines)-1]; len(l) == 0 || l[len(l)-1] != '\n' {
			if cr {
				w.WriteByte('\r')
			}
			w.WriteByte('\n')
		}
	}
}

// crNeeded says whether a conflict's markers end in CRLF: when the lines
// before it on both sides, and the base's first line, do (is_cr_needed).
func crNeeded(b, x, y [][]byte, m hunk) bool {
	at := func(i int) int {
		if i > 0 {
			return i - 1
		}
		return 0
	}
	v := eolCRLF(x, at(m.i1))
	if v != 0 {
		v = eolCRLF(y, at(m.i2))
	}
	if v != 0 {
		v = eolCRLF(b, 0)
	}
	return v > 0
}

// eolCRLF says whether line i ends in CRLF: 1 yes, 0 no, -1 cannot tell
// (is_eol_crlf).
func eolCRLF(lines [][]byte, i int) int {
	crlf := func(l []byte) int {
		if len(l) > 1 && l[len(l)-2] == '\r' {
			return 1
		}
		return 0
	}
	n := len(lines)
	if i < n-1 {
		return crlf(lines[i])
	}
	if n == 0 {
		return -1
	}
	if l := lines[i]; len(l) > 0 && l[len(l)-1] == '\n' {
		return crlf(l)
	}
	if i == 0 {
		return -1
	}
	return crlf(lines[i-1])
}
