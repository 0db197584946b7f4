package remote

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/strata-sh/strata/internal/testregistry"
	"github.com/strata-sh/strata/refs"
)

// A commit pushed on top of a history the registry has, where nothing
// local says so (a URL, a new tag), costs one round of manifest HEADs
// and the check behind the commit found, not a search of the whole line.
func TestPushWalkOneRoundOnTop(t *testing.T) {
	ctx := context.Background()
	reg := testregistry.Start(t)
	url := reg.Repo("ontop")
	a := newRepo(t)
	metaCommits(t, a, "main", 300, true)
	if _, err := connect(t, a, "origin", url, Options{}).Push(ctx, a, refs.Heads+"main", PushOptions{}); err != nil {
		t.Fatal(err)
	}
	tip := metaCommits(t, a, "main", 1, true)
	var heads atomic.Int64
	rt := countManifestHeads(&heads)
	s, err := Connect(Remote{URL: url}, Options{Transport: rt})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Refs.Update(refs.Heads+"other", tip, "", "test"); err != nil {
		t.Fatal(err)
	}
	res, err := s.Push(ctx, a, refs.Heads+"other", PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Commits != 1 || heads.Load() > probeWidth+holeDepth {
		t.Fatalf("push of 1 commit on 300 pushed: %d sent, %d manifest HEADs, want at most %d", res.Commits, heads.Load(), probeWidth+holeDepth)
	}
}

// The places one round asks: the first round doubles from lo, the
// others spread evenly; a short open range is asked whole.
func TestProbePlaces(t *testing.T) {
	for _, c := range []struct {
		lo, hi   int
		doubling bool
		want     string
	}{
		{0, 300, true, "[1 2 4 8 16 32 64 128 256]"},
		{-1, 5, true, "[0 1 2 3 4]"},
		{0, 35, false, "[2 4 6 8 10 12 14 16 18 20 22 24 26 28 30 32]"},
		{4, 10, false, "[5 6 7 8 9]"},
	} {
		if got := fmt.Sprint(probePlaces(c.lo, c.hi, c.doubling)); got != c.want {
			t.Errorf("probePlaces(%d, %d, %v) = %s, want %s", c.lo, c.hi, c.doubling, got, c.want)
		}
	}
}
