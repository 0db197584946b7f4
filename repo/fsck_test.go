package repo

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/objects/objectstest"
	"github.com/strata-sh/strata/refs"
)

// linearRepo builds main = n commits, the first with a layer of one file.
func linearRepo(t testing.TB, n int) (*Repo, []*objects.Commit) {
	t.Helper()
	r, err := Init(t.TempDir(), "main")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("f"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := r.Objects.AddLayerFromDir(context.Background(), dir, layer.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var cs []*objects.Commit
	var parent *objects.Commit
	for i := 0; i < n; i++ {
		nc := objects.NewCommit{Parent: parent, Date: time.Unix(int64(i), 0), Message: fmt.Sprint(i), OS: "linux", Architecture: "amd64"}
		if i == 0 {
			nc.Layers = []objects.Layer{l}
		}
		if parent, err = r.Objects.WriteCommit(nc); err != nil {
			t.Fatal(err)
		}
		cs = append(cs, parent)
	}
	if err := r.Refs.Update(refs.Heads+"main", parent.ID, "", "test"); err != nil {
		t.Fatal(err)
	}
	return r, cs
}

// TestFsckPastBadConfig: a commit whose config is gone is reported, and
// the history below it is still checked (its manifest names its parent).
func TestFsckPastBadConfig(t *testing.T) {
	r, cs := linearRepo(t, 3)
	if err := r.Objects.Delete(cs[1].Manifest.Config.Digest); err != nil {
		t.Fatal(err)
	}
	if err := r.Objects.Delete(cs[0].Manifest.Layers[0].Digest); err != nil {
		t.Fatal(err)
	}
	fr, err := r.Fsck(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Every commit lists the layer; the one without a config is not
	// read that far.
	missing := ": layer " + cs[0].Manifest.Layers[0].Digest.String() + " is missing"
	want := []string{
		"commit " + cs[0].ID.Encoded()[:12] + missing,
		"commit " + cs[1].ID.Encoded()[:12] + ": config: ",
		"commit " + cs[2].ID.Encoded()[:12] + missing,
	}
	if len(fr.Problems) != len(want) || fr.Commits != 3 {
		t.Fatalf("fsck: %d commits, problems %v; want 3 commits and %d problems", fr.Commits, fr.Problems, len(want))
	}
	for _, w := range want {
		found := false
		for _, p := range fr.Problems {
			found = found || strings.Contains(p.What, w)
		}
		if !found {
			t.Errorf("fsck problems %v, want one saying %q", fr.Problems, w)
		}
	}
}

// TestFsckBadDiffID: a commit whose config lists a diff id that is not a
// digest (as a registry could serve it; checkout refuses it) is reported
// once, naming the commit and the diff id, and its parent is still checked.
func TestFsckBadDiffID(t *testing.T) {
	r, cs := linearRepo(t, 2)
	bad := objectstest.WithConfig(t, r.Objects, cs[1], func(img *ocispec.Image) { img.RootFS.DiffIDs[0] = "sha256:nothex" })
	if err := r.Refs.Update(refs.Heads+"main", bad, cs[1].ID, "test"); err != nil {
		t.Fatal(err)
	}
	fr, err := r.Fsck(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Three commits: main's reflog keeps the tip it moved from.
	want := "commit " + bad.Encoded()[:12] + `: diff id 0 "sha256:nothex": `
	if len(fr.Problems) != 1 || !strings.HasPrefix(fr.Problems[0].What, want) || fr.Commits != 3 {
		t.Fatalf("fsck: %d commits, problems %v; want 3 commits and one problem starting %q", fr.Commits, fr.Problems, want)
	}
}

// TestFsckCorruptLayer: a layer that does not hash to its digest is named
// as a blob, and for each commit that lists it.
func TestFsckCorruptLayer(t *testing.T) {
	r, cs := linearRepo(t, 2)
	p := r.Objects.BlobPath(cs[0].Manifest.Layers[0].Digest)
	os.Chmod(p, 0o644)
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("x")
	f.Close()
	fr, err := r.Fsck(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	corrupt := 0
	for _, p := range fr.Problems {
		if strings.Contains(p.What, "is corrupt") {
			corrupt++
		}
	}
	if len(fr.Problems) != 3 || corrupt != 2 || !strings.Contains(fr.Problems[2].What, "does not match its digest") {
		t.Fatalf("fsck problems %v, want the blob and the commit's layer", fr.Problems)
	}
}

// BenchmarkFsck checks a 300-commit history of real commits, whose
// configs list every commit below them (bench/history.sh measures the
// walk alone, at 10,000 and 50,000).
func BenchmarkFsck(b *testing.B) {
	r, _ := linearRepo(b, 300)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := r.Fsck(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/300, "µs/commit")
}

func TestLayoutDifference(t *testing.T) {
	a, b := "sha256:aa", "sha256:bb"
	for _, c := range []struct {
		want, got map[string]string
		say       string
	}{
		{map[string]string{"main": a}, map[string]string{"main": a}, ""},
		{map[string]string{"main": a, "v1": b}, map[string]string{"main": a}, "does not list v1 (sha256:bb)"},
		{map[string]string{"main": a}, map[string]string{"main": a, "old": b}, "lists old (sha256:bb), which no branch or tag names"},
		{map[string]string{"main": a}, map[string]string{"main": b}, "lists main as sha256:bb, the ref says sha256:aa"},
	} {
		if got := layoutDifference(c.want, c.got); got != c.say {
			t.Errorf("layoutDifference(%v, %v) = %q, want %q", c.want, c.got, got, c.say)
		}
	}
}

// TestInterruptedRefMoveFinished: a command killed between moving a ref
// and rewriting index.json leaves refs.lock, its holder dead. The next
// command to take refs.lock (fsck's check among them) rewrites index.json
// first, so OCI tools see the ref and fsck finds nothing.
func TestInterruptedRefMoveFinished(t *testing.T) {
	r, cs := linearRepo(t, 2)
	// The dead holder's work: the ref moved, index.json not rewritten.
	if err := os.WriteFile(filepath.Join(r.Root, "refs", "heads", "moved"), []byte(cs[0].ID.String()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.Root, refs.RefsLockFile), []byte("999999 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := r.Fsck(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) != 0 {
		t.Fatalf("fsck after an interrupted ref move: %v", res.Problems)
	}
	idx, err := r.Objects.ReadLayoutIndex()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, m := range idx.Manifests {
		found = found || m.Annotations[ocispec.AnnotationRefName] == "moved" && m.Digest == cs[0].ID
	}
	if !found {
		t.Fatalf("index.json after the takeover: %+v", idx.Manifests)
	}

	// Without a dead holder's lock, the same gap is reported, not mended.
	if err := os.WriteFile(filepath.Join(r.Root, "refs", "heads", "moved2"), []byte(cs[0].ID.String()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err = r.Fsck(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) != 1 || res.Problems[0].Object != LayoutIndexObject || !strings.Contains(res.Problems[0].What, "does not list moved2") {
		t.Fatalf("fsck of a stale index.json: %v", res.Problems)
	}
}

// TestFsckLayerNotItsDiffID: a layer whose tar does not have the diff id
// its commit's config claims (a registry can serve that; fetch checks
// blobs, not diff ids) is reported, naming the commit, whether the
// layer was indexed before (for the right diff id) or arrived without an
// index. A layer fsck verified gets its record, and is not read again.
func TestFsckLayerNotItsDiffID(t *testing.T) {
	for _, indexed := range []bool{true, false} {
		t.Run(fmt.Sprint("indexed=", indexed), func(t *testing.T) {
			r, cs := linearRepo(t, 2)
			l := cs[0].Manifest.Layers[0].Digest
			good := r.Objects.VerifiedDiffID(l)
			if !indexed {
				if err := r.Objects.RemoveLayerIndex(l); err != nil {
					t.Fatal(err)
				}
			}
			fr, err := r.Fsck(context.Background())
			if err != nil || len(fr.Problems) != 0 {
				t.Fatalf("fsck of a sound repository: %v %v", fr.Problems, err)
			}
			if r.Objects.VerifiedDiffID(l) != good {
				t.Fatalf("fsck left no diff id record for %s", l)
			}
			wrong := "sha256:" + strings.Repeat("ab", 32)
			bad := objectstest.WithConfig(t, r.Objects, cs[1], func(img *ocispec.Image) { img.RootFS.DiffIDs[0] = digest.Digest(wrong) })
			if err := r.Refs.Update(refs.Heads+"main", bad, cs[1].ID, "test"); err != nil {
				t.Fatal(err)
			}
			if !indexed {
				r.Objects.RemoveLayerIndex(l)
			}
			fr, err = r.Fsck(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			want := "commit " + bad.Encoded()[:12] + ": "
			if len(fr.Problems) != 1 || !strings.HasPrefix(fr.Problems[0].What, want) || !strings.Contains(fr.Problems[0].What, "the commit says "+wrong) {
				t.Fatalf("fsck problems %v, want one for commit %s", fr.Problems, bad.Encoded()[:12])
			}
		})
	}
}

// TestFsckComparesSummariesOfUnreachedCommits: a summary cache entry of a
// commit nothing reaches (log shows it when named by id) is compared with
// the commit too, and named when it differs.
func TestFsckComparesSummariesOfUnreachedCommits(t *testing.T) {
	r, cs := linearRepo(t, 70)
	x, err := r.Objects.WriteCommit(objects.NewCommit{Date: time.Unix(99, 0), Message: "unreached", OS: "linux", Architecture: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range append(cs, x) {
		m, err := r.Objects.ReadManifest(c.ID)
		if err != nil {
			t.Fatal(err)
		}
		a := maps.Clone(m.Annotations)
		if c == x {
			a[objects.AnnotationMessage] = "forged"
		}
		r.Objects.NoteManifest(c.ID, a)
	}
	if err := r.Objects.SaveSummaries(); err != nil {
		t.Fatal(err)
	}
	again, err := Open(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	fr, err := again.Fsck(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(fr.Problems) != 1 || fr.Problems[0].Object != x.ID.String() || !strings.HasPrefix(fr.Problems[0].What, "summary cache entry differs") {
		t.Fatalf("fsck problems %v; want one for %s's summary", fr.Problems, x.ID)
	}
}

// TestFsckBlobSizeNotAsListed: a commit whose manifest gives a layer or
// its config another size than the blob has is named (OCI tools refuse
// such an image); the blob itself is sound.
func TestFsckBlobSizeNotAsListed(t *testing.T) {
	for name, lie := range map[string]func(m *ocispec.Manifest) string{
		"layer": func(m *ocispec.Manifest) string {
			l := m.Layers[0]
			m.Layers = []ocispec.Descriptor{l}
			m.Layers[0].Size += 7
			return fmt.Sprintf("layer %s is %d bytes, the commit says %d", l.Digest, l.Size, l.Size+7)
		},
		"config": func(m *ocispec.Manifest) string {
			m.Config.Size--
			return fmt.Sprintf("config %s is %d bytes, the commit says %d", m.Config.Digest, m.Config.Size+1, m.Config.Size)
		},
	} {
		t.Run(name, func(t *testing.T) {
			r, cs := linearRepo(t, 1)
			m := cs[0].Manifest
			what := lie(&m)
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			d, err := r.Objects.PutBytes(ocispec.MediaTypeImageManifest, b)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Refs.Update(refs.Heads+"lies", d.Digest, "", "test"); err != nil {
				t.Fatal(err)
			}
			fr, err := r.Fsck(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			want := "commit " + d.Digest.Encoded()[:12] + ": " + what
			if len(fr.Problems) != 1 || fr.Problems[0].What != want {
				t.Fatalf("fsck problems %v, want one: %s", fr.Problems, want)
			}
		})
	}
}
