package repo

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/refs"
)

// mergeRepo builds main = m, a merge of a1 (first parent) and b1, whose
// branch no ref names: only the merge's second parent reaches b1 and its
// layer. It returns the repo, the merge and b1.
func mergeRepo(t *testing.T) (*Repo, *objects.Commit, *objects.Commit) {
	t.Helper()
	r, err := Init(t.TempDir(), "main")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	commit := func(parent *objects.Commit, merge *objects.Commit, file string) *objects.Commit {
		n++
		var ls []objects.Layer
		if file != "" {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, file), []byte(file), 0o644); err != nil {
				t.Fatal(err)
			}
			l, err := r.Objects.AddLayerFromDir(context.Background(), dir, layer.WriteOptions{})
			if err != nil {
				t.Fatal(err)
			}
			ls = append(ls, l)
		}
		nc := objects.NewCommit{Parent: parent, Layers: ls, Date: time.Unix(int64(n), 0),
			Message: file, OS: "linux", Architecture: "amd64"}
		if merge != nil {
			nc.MergeParent = merge.ID
		}
		c, err := r.Objects.WriteCommit(nc)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	root := commit(nil, nil, "root")
	a1 := commit(root, nil, "a1")
	b1 := commit(root, nil, "b1")
	m := commit(a1, b1, "")
	if err := r.Refs.Update(refs.Heads+"main", m.ID, "", "test"); err != nil {
		t.Fatal(err)
	}
	return r, m, b1
}

// TestGCKeepsMergeParent: gc keeps what only a merge's second parent
// reaches, and fsck is clean afterwards.
func TestGCKeepsMergeParent(t *testing.T) {
	r, _, b1 := mergeRepo(t)
	res, err := r.GC(GCOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Blobs != 0 {
		t.Errorf("gc removed %d blobs of a history that is all reachable", res.Blobs)
	}
	for _, d := range append([]objects.Layer{}, b1.Layers()...) {
		if !r.Objects.Has(d.Desc.Digest) {
			t.Errorf("gc removed layer %s that only the merge's second parent reaches", d.Desc.Digest)
		}
	}
	if !r.Objects.Has(b1.ID) || !r.Objects.Has(b1.Manifest.Config.Digest) {
		t.Errorf("gc removed the second parent's manifest or config")
	}
	fr, err := r.Fsck(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(fr.Problems) != 0 || fr.Commits != 4 {
		t.Errorf("fsck after gc: %d commits, problems %v; want 4 commits and none", fr.Commits, fr.Problems)
	}
}

// TestFsckMissingMergeParent: a missing second parent is reported as a
// missing parent is; a shallow boundary at the merge is not a problem.
func TestFsckMissingMergeParent(t *testing.T) {
	r, m, b1 := mergeRepo(t)
	if err := r.Objects.Delete(b1.ID); err != nil {
		t.Fatal(err)
	}
	fr, err := r.Fsck(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := "commit " + m.ID.Encoded()[:12] + ": merge parent " + b1.ID.Encoded()[:12] + " is missing"
	if len(fr.Problems) != 1 || !strings.Contains(fr.Problems[0].What, want) {
		t.Fatalf("fsck problems %v, want one saying %q", fr.Problems, want)
	}
	if err := r.AddShallow(m.ID); err != nil {
		t.Fatal(err)
	}
	if fr, err = r.Fsck(context.Background()); err != nil || len(fr.Problems) != 0 {
		t.Fatalf("fsck of a shallow merge: %v %v", fr.Problems, err)
	}
}

// TestReflogExpireReachesMergeParent: reflog expire counts a commit the
// tip reaches only through a merge's second parent as reachable.
func TestReflogExpireReachesMergeParent(t *testing.T) {
	r, _, b1 := mergeRepo(t)
	reach := r.reachFromTip(refs.Heads + "main")
	if !reach(b1.ID) {
		t.Fatal("the merge's second parent is not reachable from the tip")
	}
}
