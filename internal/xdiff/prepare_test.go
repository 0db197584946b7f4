package xdiff

import (
	"bytes"
	"math/rand"
	"slices"
	"testing"
)

// TestSplitLines: lines keep their newlines, a last line without one is
// kept, and nothing is a line of no text.
func TestSplitLines(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"\n", []string{"\n"}},
		{"a", []string{"a"}},
		{"a\n\nb", []string{"a\n", "\n", "b"}},
		{"a\nb\n", []string{"a\n", "b\n"}},
	} {
		got := SplitLines([]byte(c.in))
		if len(got) != len(c.want) || (got == nil) != (c.want == nil) {
			t.Errorf("SplitLines(%q) = %q, want %q", c.in, got, c.want)
			continue
		}
		for i := range got {
			if string(got[i]) != c.want[i] {
				t.Errorf("SplitLines(%q) = %q, want %q", c.in, got, c.want)
			}
		}
	}
}

// TestSetupAllocations: cutting and preparing a big text allocates a
// few slices sized up front, not one per line nor a slice grown line by
// line: on a 200,000-line text, growing cost a fifth of the diff.
func TestSetupAllocations(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	a := valueText(rng, 10_000, 10_000)
	b := scatterEdits(rng, a)
	if n := testing.AllocsPerRun(5, func() { SplitLines(a) }); n != 1 {
		t.Errorf("SplitLines of %d lines: %v allocations, want 1", bytes.Count(a, []byte{'\n'}), n)
	}
	x, y := SplitLines(a), SplitLines(b)
	sx, sy := prepare(x, y)
	if len(sx.rindex) < len(x)/2 || len(sy.rindex) < len(y)/2 {
		t.Fatalf("cleanup kept %d and %d of %d and %d lines: the texts do not test it", len(sx.rindex), len(sy.rindex), len(x), len(y))
	}
	_, _, count := classifyPair(x, y)
	if n := testing.AllocsPerRun(5, func() {
		sx.rindex, sx.rclass = nil, nil
		cleanup(sx, count[1], 0, len(x)-1)
	}); n != 3 {
		t.Errorf("cleanup of %d lines: %v allocations, want 3", len(x), n)
	}
}

// TestClassifyPair: lines of a and b have one class when they are equal,
// numbered in order of first appearance, a's first, with each class's
// lines counted in each file; and classifying allocates as much for
// many lines as for few, not once per line as a map of strings did.
func TestClassifyPair(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	a := SplitLines(valueText(rng, 3000, 1000))
	b := SplitLines(scatterEdits(rng, valueText(rng, 3000, 1000)))
	x, y, count := classifyPair(a, b)
	seen := map[string]int{}
	var want [2][]int
	for which, s := range []*side{x, y} {
		for i, l := range s.lines {
			c, ok := seen[string(l)]
			if !ok {
				c = len(seen)
				seen[string(l)] = c
				want[0], want[1] = append(want[0], 0), append(want[1], 0)
			}
			want[which][c]++
			if s.class[i] != c {
				t.Fatalf("file %d line %d %q: class %d, want %d", which, i, l, s.class[i], c)
			}
		}
	}
	for which := range count {
		if !slices.Equal(count[which], want[which]) {
			t.Errorf("file %d: counts %v, want %v", which, count[which], want[which])
		}
	}

	allocs := func(n int) float64 {
		a := SplitLines(valueText(rng, n, n))
		b := SplitLines(scatterEdits(rng, valueText(rng, n, n)))
		return testing.AllocsPerRun(5, func() { classifyPair(a, b) })
	}
	if few, many := allocs(100), allocs(10_000); many != few {
		t.Errorf("classifying 100 lines allocates %v times, 10,000 lines %v times", few, many)
	}
}
