package repo

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/objects"
)

// TestShallowHistoryFsckAndGC: format.md's "Shallow histories": a commit
// that .strata/shallow lists (one digest a line) may lack its parent;
// fsck does not report it, and gc keeps what the history has.
func TestShallowHistoryFsckAndGC(t *testing.T) {
	r, cs := linearRepo(t, 3)
	gone, boundary, tip := cs[0], cs[1], cs[2]
	if err := r.Objects.Delete(gone.ID); err != nil {
		t.Fatal(err)
	}
	res, err := r.Fsck(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(problems(res), gone.ID.Encoded()[:12]) {
		t.Fatalf("fsck without .strata/shallow does not name the missing parent: %s", problems(res))
	}
	if err := r.AddShallow(boundary.ID); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(r.Root, "shallow"))
	if err != nil || string(b) != boundary.ID.String()+"\n" {
		t.Fatalf(".strata/shallow = %q, %v; want the boundary's digest on a line", b, err)
	}
	if res, err = r.Fsck(context.Background()); err != nil || len(res.Problems) != 0 {
		t.Fatalf("fsck of a shallow history: %v, %s", err, problems(res))
	}
	if _, err := r.GC(GCOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*objects.Commit{boundary, tip} {
		for _, d := range append([]digest.Digest{c.ID, c.Manifest.Config.Digest}, layerDigests(c)...) {
			if !r.Objects.Has(d) {
				t.Errorf("gc of a shallow history removed %s of %s", d, c.ID)
			}
		}
	}
}

func layerDigests(c *objects.Commit) []digest.Digest {
	var ds []digest.Digest
	for _, l := range c.Manifest.Layers {
		ds = append(ds, l.Digest)
	}
	return ds
}

func problems(res FsckResult) string {
	var b strings.Builder
	for _, p := range res.Problems {
		b.WriteString(p.String() + "; ")
	}
	return b.String()
}
