package fold

import (
	"math"
	"testing"
)

// TestCandidatesKeepEveryChainWithinMaxLayers commits one or three
// layers at a time onto bases of 1 to 127 layers, folding as Prepare
// does, and checks the promises of the package doc: no commit past
// MaxLayers, never the fallback, and each layer copied at most once a
// level.
func TestCandidatesKeepEveryChainWithinMaxLayers(t *testing.T) {
	for _, tc := range []struct{ base, commits, add int }{
		{1, 20000, 1}, {5, 20000, 1}, {127, 5000, 1}, {5, 5000, 3}, {100, 3000, 16},
	} {
		weights := make([]int64, tc.base)
		for i := range weights {
			weights[i] = 1
		}
		var copied int64
		for c := 0; c < tc.commits; c++ {
			for len(weights)+tc.add > MaxLayers {
				runs := candidates(weights)
				if len(runs) == 0 {
					t.Fatalf("base %d, commit %d: nothing to fold", tc.base, c)
				}
				s := runs[0]
				if _, ok := levelOf(weights[s.from]); !ok || !allEqual(weights[s.from:s.to], weights[s.from]) {
					t.Fatalf("base %d, commit %d: the fallback ran on %v", tc.base, c, weights)
				}
				w := sum(weights[s.from:s.to])
				copied += w
				weights = append(append(append([]int64(nil), weights[:s.from]...), w), weights[s.to:]...)
			}
			for i := 0; i < tc.add; i++ {
				weights = append(weights, 1)
			}
			if len(weights) > MaxLayers {
				t.Fatalf("base %d, commit %d: %d layers", tc.base, c, len(weights))
			}
		}
		total := sum(weights)
		if total != int64(tc.base+tc.commits*tc.add) {
			t.Fatalf("base %d: the weights add up to %d, not %d", tc.base, total, tc.base+tc.commits*tc.add)
		}
		levels := math.Ceil(math.Log(float64(total)) / math.Log(Fanout))
		if per := float64(copied) / float64(total); per > levels {
			t.Errorf("base %d, %d commits of %d: each layer copied %.2f times, more than the %v levels", tc.base, tc.commits, tc.add, per, levels)
		}
	}
}

// TestCandidatesOfAnEditedChainStillFold: weights no aligned run has (a
// history edited by hand) still give a run, the lightest.
func TestCandidatesOfAnEditedChainStillFold(t *testing.T) {
	weights := make([]int64, MaxLayers)
	for i := range weights {
		weights[i] = int64(3 + i%2) // never a power of Fanout
	}
	weights[10] = 1
	runs := candidates(weights)
	if len(runs) == 0 {
		t.Fatal("no run to fold")
	}
	s := runs[0]
	if s.to-s.from != Fanout || s.from > 10 || s.to <= 10 {
		t.Fatalf("folds %v: want the lightest run of %d, which holds layer 10", s, Fanout)
	}
}

// TestCandidatesPreferTheLowestLevelThenTheTop: of aligned runs, the
// cheapest fold, and the newest of those.
func TestCandidatesPreferTheLowestLevelThenTheTop(t *testing.T) {
	var weights []int64
	for i := 0; i < Fanout; i++ {
		weights = append(weights, Fanout) // one aligned run of level 1
	}
	for i := 0; i < 2*Fanout+3; i++ {
		weights = append(weights, 1) // two aligned runs of level 0, and 3
	}
	runs := candidates(weights)
	want := []span{{2 * Fanout, 3 * Fanout}, {Fanout, 2 * Fanout}, {0, Fanout}}
	if len(runs) != len(want) {
		t.Fatalf("runs %v, want %v", runs, want)
	}
	for i := range want {
		if runs[i] != want[i] {
			t.Fatalf("runs %v, want %v", runs, want)
		}
	}
}
