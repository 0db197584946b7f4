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
	x, y := SplitLines(tenValueText(rng, 200_000)), SplitLines(tenValueText(rng, 200_000))
	for b.Loop() {
		Diff(x, y, Options{IndentHeuristic: true})
	}
}
