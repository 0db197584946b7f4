package xdiff

import (
	"bytes"
	"hash/maphash"
)

// classifyPair gives equal lines of a and b one class, numbered in order
// of first appearance, a's lines first (xdl_classify_record), and counts
// each class's lines in each file.
func classifyPair(a, b [][]byte) (*side, *side, [2][]int) {
	t := newLineTable(a, b)
	x := &side{lines: a, class: t.classify(a, 0), rchg: make([]bool, len(a)+2)}
	y := &side{lines: b, class: t.classify(b, -1), rchg: make([]bool, len(b)+2)}
	var count [2][]int // per class, how many lines of each file have it
	for which, s := range []*side{x, y} {
		count[which] = make([]int, len(t.first))
		for _, c := range s.class {
			count[which][c]++
		}
	}
	return x, y, count
}

// lineTable is xdiff's xdlclassifier_t: a hash table of the distinct
// lines of a and b, sized from their line count as git sizes it, with
// open addressing rather than chains, and nothing in it a pointer: a
// lookup touches one array, and the collector has nothing to scan.
type lineTable struct {
	a, b [][]byte
	seed maphash.Seed
	// Per slot, 0 when empty, else the high 32 bits of its line's hash
	// above its class plus one: most lookups of another line stop at
	// the hash without comparing bytes.
	slots []uint64
	mask  uint64
	first []int32 // per class, its first line: i is a[i], -1-i is b[i]
}

// newLineTable sizes the table for a's and b's lines, at most half full.
// Line numbers and classes fit in 31 bits: two billion lines would take
// 48 GB of line slices before the table.
func newLineTable(a, b [][]byte) *lineTable {
	n := len(a) + len(b)
	size := 1 << hashbits(2*n)
	return &lineTable{a: a, b: b, seed: maphash.MakeSeed(), slots: make([]uint64, size),
		mask: uint64(size - 1), first: make([]int32, 0, n)}
}

// classify returns the class of each line, giving new lines new classes;
// lines is a (sign 0) or b (sign -1).
func (t *lineTable) classify(lines [][]byte, sign int32) []int {
	cl := make([]int, len(lines))
	for i, l := range lines {
		cl[i] = t.class(l, int32(i)^sign)
	}
	return cl
}

// class returns line's class; at is where line is, as first holds it.
func (t *lineTable) class(line []byte, at int32) int {
	h := maphash.Bytes(t.seed, line)
	tag := h &^ (1<<32 - 1)
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		s := t.slots[i]
		if s == 0 {
			c := len(t.first)
			t.first = append(t.first, at)
			t.slots[i] = tag | uint64(c+1)
			return c
		}
		if c := int(uint32(s)) - 1; s&^(1<<32-1) == tag && bytes.Equal(t.line(t.first[c]), line) {
			return c
		}
	}
}

// line returns the line at i, as first holds it.
func (t *lineTable) line(i int32) []byte {
	if i < 0 {
		return t.b[-1-i]
	}
	return t.a[i]
}
