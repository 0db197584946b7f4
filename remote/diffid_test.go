package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

func zstdBytes(t *testing.T, b []byte) []byte {
	var out bytes.Buffer
	zw, err := zstd.NewWriter(&out)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func gzipBytes(t *testing.T, b []byte) []byte {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// A registry's layer whose tar does not have the diff id its config
// claims (a manifest and config crafted, or a layer replaced in the
// registry's storage along with its digest) is stored by fetch, which
// checks blob digests only: decompressing every layer on arrival too cost
// a clone --no-checkout 80% more. The first read of the layer whole (the
// unpack of a checkout, a file index) refuses it, naming both diff ids,
// and fsck names the commit. A diff id that is not a sha256 digest is
// refused at fetch: no read of the layer could ever match it.
func TestFetchLeavesDiffIDToUnpack(t *testing.T) {
	tarball := tarLayer(t)
	other := digest.FromString("not the tar")
	for _, c := range []struct {
		name, mediaType string
		blob            []byte
	}{
		{"zstd", ocispec.MediaTypeImageLayer + "+zstd", zstdBytes(t, tarball)},
		{"gzip", ocispec.MediaTypeImageLayerGzip, gzipBytes(t, tarball)},
		{"plain", ocispec.MediaTypeImageLayer, tarball},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHostileRegistry(t)
			img := h.addImageAs(t, c.blob, c.mediaType, other.String(), "main")
			r, res, err := fetchFrom(t, h, Options{})
			if err != nil || len(res.Tags) != 1 || res.Tags[0].Skipped != "" {
				t.Fatalf("fetch: %+v, %v", res.Tags, err)
			}
			_, err = r.Objects.LayerIndex(objects.Layer{Desc: img.layer, DiffID: other})
			if !errors.Is(err, objects.ErrDigestMismatch) || !strings.Contains(err.Error(), other.String()) {
				t.Fatalf("index of the lying layer: %v, want a digest mismatch naming %s", err, other)
			}
			fr, err := r.Fsck(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(fmt.Sprint(fr.Problems), short(img.id)) {
				t.Fatalf("fsck problems: %v, want the commit %s named", fr.Problems, short(img.id))
			}
		})
	}
	h := newHostileRegistry(t)
	img := h.addImageAs(t, zstdBytes(t, tarball), ocispec.MediaTypeImageLayer+"+zstd", "sha256:abc", "main")
	r, res, err := fetchFrom(t, h, Options{})
	if err != nil || len(res.Tags) != 1 || !strings.Contains(res.Tags[0].Skipped, "is not a sha256 digest") {
		t.Fatalf("a diff id that is no digest: %+v, %v", res.Tags, err)
	}
	assertNothingStored(t, r, img)
}

// A registry's commit that names a layer the store already has, indexed
// with its diff id recorded, under another diff id, is refused without
// the layer being read again; the stored layer stays.
func TestFetchChecksDiffIDOfStoredLayer(t *testing.T) {
	r := newRepo(t)
	l := readCommit(t, r, commitFile(t, r, "main", "etc/hello", "hello")).Layers()[0]
	blob, err := os.ReadFile(r.Objects.BlobPath(l.Desc.Digest))
	if err != nil {
		t.Fatal(err)
	}
	h := newHostileRegistry(t)
	other := digest.FromString("other").String()
	img := h.addImageAs(t, blob, l.Desc.MediaType, other, "liar")
	_, err = connect(t, r, "origin", h.host+"/env", Options{Jobs: 1}).Fetch(context.Background(), r, []string{"liar"})
	want := "its content has diff id " + l.DiffID.String() + ", the commit says " + other
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), short(img.id)) {
		t.Fatalf("fetch liar: %v, want %q", err, want)
	}
	if r.Objects.Has(img.id) {
		t.Fatal("the lying commit was stored")
	}
	if !r.Objects.Has(l.Desc.Digest) {
		t.Fatal("the stored layer is gone")
	}
	checkFsck(t, r)
}

// A push of a commit that pairs a stored layer with another diff id than
// the one recorded for it is refused before anything is sent.
func TestPushRefusesRecordedDiffIDMismatch(t *testing.T) {
	r := newRepo(t)
	c := readCommit(t, r, commitFile(t, r, "main", "etc/hello", "hello"))
	bad, want := lyingCommit(t, r, c, c.Layers()[0])
	dir := filepath.Join(t.TempDir(), "shared")
	_, err := connect(t, r, "shared", dir, Options{}).Push(context.Background(), r, refs.Heads+"liar", PushOptions{})
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), short(bad.ID)) {
		t.Fatalf("push liar: %v, want %q", err, want)
	}
	// --compression gzip reads every tar to recompress it: the lie is
	// found there, before anything is sent.
	_, err = connect(t, r, "shared", dir, Options{}).Push(context.Background(), r, refs.Heads+"liar", PushOptions{Compression: "gzip"})
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), short(bad.ID)) {
		t.Fatalf("push --compression gzip liar: %v, want %q", err, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "index.json")); err == nil {
		if b, _ := os.ReadFile(filepath.Join(dir, "index.json")); strings.Contains(string(b), bad.ID.Encoded()) {
			t.Fatal("the lying commit was pushed")
		}
	}
}

// The same with a layer whose first recompression is for the lying
// commit: the hash of the tar read for it finds the lie.
func TestPushGzipChecksDiffID(t *testing.T) {
	r := newRepo(t)
	c := readCommit(t, r, commitFile(t, r, "main", "etc/hello", "hello"))
	solo := readCommit(t, r, commitFile(t, r, "solo", "etc/solo", "solo"))
	bad, want := lyingCommit(t, r, c, solo.Layers()[0])
	dir := filepath.Join(t.TempDir(), "shared")
	_, err := connect(t, r, "shared", dir, Options{}).Push(context.Background(), r, refs.Heads+"liar", PushOptions{Compression: "gzip"})
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), short(bad.ID)) {
		t.Fatalf("push --compression gzip liar: %v, want %q", err, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "index.json")); err == nil {
		t.Fatal("something was pushed")
	}
}

func readCommit(t *testing.T, r *repo.Repo, id digest.Digest) *objects.Commit {
	t.Helper()
	c, err := r.Objects.ReadCommit(id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// lyingCommit writes a child of parent that adds layer l under another
// diff id than its own, as branch liar; want is what a refusal of it says.
func lyingCommit(t *testing.T, r *repo.Repo, parent *objects.Commit, l objects.Layer) (*objects.Commit, string) {
	t.Helper()
	other := digest.FromString("other")
	bad, err := r.Objects.WriteCommit(objects.NewCommit{Parent: parent, Layers: []objects.Layer{{Desc: l.Desc, DiffID: other}},
		Date: time.Unix(1700000000, 0), Message: "a lie", OS: "linux", Architecture: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Refs.Update(refs.Heads+"liar", bad.ID, "", "test"); err != nil {
		t.Fatal(err)
	}
	return bad, "its content has diff id " + l.DiffID.String() + ", the commit says " + other.String()
}

// A gzip push recompresses a zstd layer once: the next one takes the
// twin the store recorded (here the zstd blob is gone, so a second
// recompression would fail), and gives the same ids. A commit that pairs
// the layer with another diff id is still refused: the twin carries the
// diff id its tar was found to have.
func TestPushGzipReusesTwin(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	base := readCommit(t, r, commitFile(t, r, "main", "etc/hello", "hello"))
	dir := filepath.Join(t.TempDir(), "shared")
	first, err := connect(t, r, "shared", dir, Options{}).Push(ctx, r, refs.Heads+"main", PushOptions{Compression: "gzip"})
	if err != nil {
		t.Fatal(err)
	}
	zl := base.Layers()[0]
	if err := os.Remove(r.Objects.BlobPath(zl.Desc.Digest)); err != nil {
		t.Fatal(err)
	}
	commitFile(t, r, "main", "etc/more", "more")
	second, err := connect(t, r, "shared", dir, Options{}).Push(ctx, r, refs.Heads+"main", PushOptions{Compression: "gzip"})
	if err != nil {
		t.Fatalf("gzip push of a commit on a converted one, its zstd layer gone: %v", err)
	}
	if second.Commits != 1 || second.Old != first.New {
		t.Fatalf("second gzip push: %+v; want one commit on %s", second, short(first.New))
	}
	c := readCommit(t, r, second.New)
	p := readCommit(t, r, c.Parent())
	if p.ID != first.New || c.Layers()[0].Desc.Digest != p.Layers()[0].Desc.Digest {
		t.Fatalf("the second conversion's base is %s (layer %s), the first's %s", short(p.ID), short(c.Layers()[0].Desc.Digest), short(first.New))
	}
	bad, want := lyingCommit(t, r, base, zl)
	_, err = connect(t, r, "shared", dir, Options{}).Push(ctx, r, refs.Heads+"liar", PushOptions{Compression: "gzip"})
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), short(bad.ID)) {
		t.Fatalf("push --compression gzip liar over a recorded twin: %v, want %q", err, want)
	}
}

// A twin record that gives its gzip blob another size than the blob has
// (rewritten, or planted) is not taken: the push recompresses the layer
// and names the gzip blob with its own size, so the pushed commit is the
// one a true record gives, not one a puller refuses.
func TestPushGzipTwinLyingSize(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	base := readCommit(t, r, commitFile(t, r, "main", "etc/hello", "hello"))
	first, err := connect(t, r, "shared", filepath.Join(t.TempDir(), "shared"), Options{}).Push(ctx, r, refs.Heads+"main", PushOptions{Compression: "gzip"})
	if err != nil {
		t.Fatal(err)
	}
	zl := base.Layers()[0].Desc.Digest
	gz, diffID, ok := r.Objects.GzipTwin(zl)
	if !ok {
		t.Fatal("the first gzip push recorded no twin")
	}
	lie := gz
	lie.Size++
	if err := r.Objects.RecordGzipTwin(zl, lie, diffID); err != nil {
		t.Fatal(err)
	}
	second, err := connect(t, r, "other", filepath.Join(t.TempDir(), "other"), Options{}).Push(ctx, r, refs.Heads+"main", PushOptions{Compression: "gzip"})
	if err != nil {
		t.Fatal(err)
	}
	got := readCommit(t, r, second.New).Layers()[0].Desc
	if second.New != first.New || got.Size != gz.Size {
		t.Fatalf("gzip push over a twin record of size %d: commit %s, its layer %s of %d bytes; want %s, %d bytes", lie.Size, short(second.New), short(got.Digest), got.Size, short(first.New), gz.Size)
	}
}

// A twin record whose diff id is not the one the commit gives (rewritten,
// or its digits rotted) does not make the push blame the commit: while
// the zstd layer is stored, its tar decides, so the push converts it
// again and gives the commit a true record would, recording the twin
// anew. (With the layer gone the record's word stands:
// TestPushGzipReusesTwin.)
func TestPushGzipTwinLyingDiffID(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	base := readCommit(t, r, commitFile(t, r, "main", "etc/hello", "hello"))
	first, err := connect(t, r, "shared", filepath.Join(t.TempDir(), "shared"), Options{}).Push(ctx, r, refs.Heads+"main", PushOptions{Compression: "gzip"})
	if err != nil {
		t.Fatal(err)
	}
	zl := base.Layers()[0]
	gz, _, ok := r.Objects.GzipTwin(zl.Desc.Digest)
	if !ok {
		t.Fatal("the first gzip push recorded no twin")
	}
	if err := r.Objects.RecordGzipTwin(zl.Desc.Digest, gz, digest.FromString("other")); err != nil {
		t.Fatal(err)
	}
	second, err := connect(t, r, "other", filepath.Join(t.TempDir(), "other"), Options{}).Push(ctx, r, refs.Heads+"main", PushOptions{Compression: "gzip"})
	if err != nil {
		t.Fatalf("gzip push over a twin record with another diff id: %v", err)
	}
	if second.New != first.New {
		t.Fatalf("gzip push over a twin record with another diff id gave %s, want %s", short(second.New), short(first.New))
	}
	if _, diffID, ok := r.Objects.GzipTwin(zl.Desc.Digest); !ok || diffID != zl.DiffID {
		t.Fatalf("the twin record reads %s (%v) after the push, want %s", diffID, ok, zl.DiffID)
	}
}

// A twin record that names another layer's gzip blob (of the right size,
// a gzip stream) under its own layer's diff id (rewritten, or planted)
// is not taken: that blob would go in the layer's place, and a puller
// refuse the commit. The gzip blob's own diff id record disagrees, so
// the push recompresses the layer and gives the commit a true record
// gives.
func TestPushGzipTwinOtherLayer(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	base := readCommit(t, r, commitFile(t, r, "main", "etc/hello", "hello"))
	other := readCommit(t, r, commitFile(t, r, "other", "etc/other", "another file"))
	first, err := connect(t, r, "shared", filepath.Join(t.TempDir(), "shared"), Options{}).Push(ctx, r, refs.Heads+"main", PushOptions{Compression: "gzip"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := connect(t, r, "shared", filepath.Join(t.TempDir(), "shared"), Options{}).Push(ctx, r, refs.Heads+"other", PushOptions{Compression: "gzip"}); err != nil {
		t.Fatal(err)
	}
	zl := base.Layers()[0]
	gz, _, ok := r.Objects.GzipTwin(zl.Desc.Digest)
	otherGz, _, otherOK := r.Objects.GzipTwin(other.Layers()[0].Desc.Digest)
	if !ok || !otherOK || gz.Digest == otherGz.Digest {
		t.Fatalf("the gzip pushes recorded twins %s (%v) and %s (%v)", gz.Digest, ok, otherGz.Digest, otherOK)
	}
	planted := fmt.Sprintf("%s %d %s\n", otherGz.Digest, otherGz.Size, zl.DiffID)
	twin := filepath.Join(r.Objects.Root(), "indexes", "sha256", zl.Desc.Digest.Encoded()+".gzip")
	if err := os.WriteFile(twin, []byte(planted), 0o644); err != nil {
		t.Fatal(err)
	}
	second, err := connect(t, r, "again", filepath.Join(t.TempDir(), "again"), Options{}).Push(ctx, r, refs.Heads+"main", PushOptions{Compression: "gzip"})
	if err != nil {
		t.Fatal(err)
	}
	if got := readCommit(t, r, second.New).Layers()[0].Desc; second.New != first.New || got.Digest != gz.Digest {
		t.Fatalf("gzip push over a twin record naming %s: commit %s, its layer %s; want %s, layer %s", short(otherGz.Digest), short(second.New), short(got.Digest), short(first.New), short(gz.Digest))
	}
}
