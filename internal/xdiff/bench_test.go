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
