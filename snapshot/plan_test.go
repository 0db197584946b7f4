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

// TestPlanSnapshotsRepeatedLayer: overlayfs refuses a lower twice, so a
// layer listed again is mounted at its topmost occurrence alone, above a
// flattened prefix as in a short chain.
func TestPlanSnapshotsRepeatedLayer(t *testing.T) {
	layer := func(s string) objects.Layer { return objects.Layer{DiffID: digest.FromString(s)} }
	a, b := layer("a"), layer("b")
	ids := func(refs []SnapshotRef) (out []string) {
		for _, r := range refs {
			switch r.ID {
			case a.DiffID.Encoded():
				out = append(out, "a")
			case b.DiffID.Encoded():
				out = append(out, "b")
			default:
				out = append(out, "other")
			}
		}
		return out
	}
	if got := fmt.Sprint(ids(PlanSnapshots([]objects.Layer{a, b, a}))); got != "[b a]" {
		t.Errorf("[a b a] is mounted as %s", got)
	}
	if got := fmt.Sprint(ids(PlanSnapshots([]objects.Layer{a, a, b, b, a, b}))); got != "[a b]" {
		t.Errorf("[a a b b a b] is mounted as %s", got)
	}
	deep := make([]objects.Layer, MaxLowers)
	for i := range deep {
		deep[i] = layer(fmt.Sprint(i))
	}
	ls := append([]objects.Layer{a, b, a}, deep...)
	// 134 layers: the prefix of 128, the last 3 of deep, then [a b a].
	refs := PlanSnapshots(append(ls, a, b, a))
	if got := fmt.Sprint(ids(refs[1:])); !refs[0].Flat || got != "[other other other b a]" {
		t.Errorf("deep [a b a ... a b a]: %d snapshots, flat %v, ending %s", len(refs), refs[0].Flat, got)
	}
}
