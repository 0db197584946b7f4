package snapshot

import (
	"fmt"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/objects"
)

// TestPlanSnapshotsFlattens: the plan is a pure function, tested without root.
func TestPlanSnapshotsFlattens(t *testing.T) {
	for _, n := range []int{0, 1, MaxLowers, MaxLowers + 1, 1000, 1001} {
		ls := make([]objects.Layer, n)
		for i := range ls {
			ls[i].DiffID = digest.FromString(fmt.Sprint(i))
		}
		refs := PlanSnapshots(ls)
		total := 0
		for _, r := range refs {
			total += len(r.Layers)
		}
		if n > 0 && total != n {
			t.Errorf("%d layers: snapshots hold %d", n, total)
		}
		if len(refs) > FlattenGroup+1 && n > MaxLowers || len(refs) > MaxLowers {
			t.Errorf("%d layers: %d lowers", n, len(refs))
		}
		if n > MaxLowers && (!refs[0].Flat || len(refs[0].Layers)%FlattenGroup != 0) {
			t.Errorf("%d layers: bottom snapshot %+v is not a flattened group multiple", n, refs[0].ID)
		}
	}
	// The next commit reuses the same flattened
	ls := make([]objects.Layer, 1001)
	for i := range ls {
		ls[i].DiffID = digest.FromString(fmt.Sprint(i))
	}
	if a, b := PlanSnapshots(ls[:1000])[0].ID, PlanSnapshots(ls)[0].ID; a != b {
		t.Errorf("1000 and 1001 layers flatten differently: %s, %s", a, b)
	}
}
