package xdiff

import (
	"math/rand"
	"testing"
)

// BenchmarkDiffTenValues diffs two texts of 200,000 lines drawn from
// ten, the most lines diff -p takes (tree.MaxPatchLines) in the Myers
// search's worst case.
func BenchmarkDiffTenValues(b *testing.B) {
	rng := rand.New(rand.NewSource(1))
	x, y := SplitLines(valueText(rng, 200_000, 10)), SplitLines(valueText(rng, 200_000, 10))
	for b.Loop() {
		Diff(x, y, Options{IndentHeuristic: true})
	}
}

// BenchmarkDiffEdited cuts and diffs a text of 200,000 lines of many
// values and a copy with a few lines edited every 40 or so, as diff -p
// does with a big text file: the search is cheap there, and cutting and
// classifying lines, and collecting what they allocate, weigh as much.
func BenchmarkDiffEdited(b *testing.B) {
	rng := rand.New(rand.NewSource(1))
	a := valueText(rng, 200_000, 200_000)
	e := scatterEdits(rng, a)
	for _, m := range []struct {
		name string
		o    Options
	}{
		{"myers", Options{IndentHeuristic: true}},
		{"histogram", Options{Histogram: true}},
		{"patience", Options{Patience: true}},
	} {
		b.Run(m.name, func(b *testing.B) {
			for b.Loop() {
				Diff(SplitLines(a), SplitLines(e), m.o)
			}
		})
	}
}
