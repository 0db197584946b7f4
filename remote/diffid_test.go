package remote

import (
	"bytes"
	"context"
	"errors"
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
// registry's storage along with its digest) is refused as it arrives,
// with the commit, the layer and both diff ids named: a fetch of every
// tag skips it, a fetch of that tag (a clone) fails, and nothing of the
// layer, no commit and no ref is stored. Before, the commit was stored
// and only checkout and fsck refused it.
func TestFetchChecksDiffIDs(t *testing.T) {
	tarball := tarLayer(t)
	other := digest.FromString("not the tar").String()
	cut := gzipBytes(t, tarball)
	cut = cut[:len(cut)-10] // its digest is the cut bytes': only its content is wrong
	for _, c := range []struct {
		name, mediaType, diffID string
		blob                    []byte
		want                    string
	}{
		{"zstd", ocispec.MediaTypeImageLayer + "+zstd", other, zstdBytes(t, tarball), "its content has diff id " + digest.FromBytes(tarball).String() + ", the commit says " + other},
		{"gzip", ocispec.MediaTypeImageLayerGzip, other, gzipBytes(t, tarball), "its content has diff id " + digest.FromBytes(tarball).String() + ", the commit says " + other},
		{"plain", ocispec.MediaTypeImageLayer, other, tarball, "its content has diff id " + digest.FromBytes(tarball).String() + ", the commit says " + other},
		{"truncated", ocispec.MediaTypeImageLayerGzip, digest.FromBytes(tarball).String(), cut, "does not decompress"},
		{"wrong media type", ocispec.MediaTypeImageLayerGzip, digest.FromBytes(tarball).String(), zstdBytes(t, tarball), "the content is zstd"},
		{"diff id not a digest", ocispec.MediaTypeImageLayer + "+zstd", "sha256:abc", zstdBytes(t, tarball), "is not a sha256 digest"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHostileRegistry(t)
			img := h.addImageAs(t, c.blob, c.mediaType, c.diffID, "main")
			r, res, err := fetchFrom(t, h, Options{})
			if err != nil {
				t.Fatalf("a fetch of every tag failed: %v", err)
			}
			if len(res.Tags) != 1 || !strings.Contains(res.Tags[0].Skipped, c.want) || !strings.Contains(res.Tags[0].Skipped, short(img.id)) {
				t.Fatalf("tags: %+v, want main skipped: ...%s...", res.Tags, c.want)
			}
			assertNothingStored(t, r, img)

			r = newRepo(t)
			_, err = connect(t, r, "origin", h.host+"/env", Options{Jobs: 1}).Fetch(context.Background(), r, []string{"main"})
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("fetch main: %v, want one line with %q", err, c.want)
			}
			assertNothingStored(t, r, img)
		})
	}
}

// Two tags name one layer, one with its true diff id, one with another:
// the layer is stored once, for the commit that tells the truth, and the
// other tag is skipped.
func TestFetchDiffIDsPerCommit(t *testing.T) {
	tarball := tarLayer(t)
	blob := zstdBytes(t, tarball)
	h := newHostileRegistry(t)
	good := h.addImageAs(t, blob, ocispec.MediaTypeImageLayer+"+zstd", digest.FromBytes(tarball).String(), "good")
	h.addImageAs(t, blob, ocispec.MediaTypeImageLayer+"+zstd", digest.FromString("x").String(), "liar")
	r, res, err := fetchFrom(t, h, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range res.Tags {
		if (u.Tag == "liar") != strings.Contains(u.Skipped, "its content has diff id") {
			t.Errorf("tag %s: %+v", u.Tag, u)
		}
	}
	list, err := r.Refs.List("refs/remotes/")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Name != "refs/remotes/origin/good" || list[0].Target != good.id {
		t.Fatalf("remote-tracking refs: %+v", list)
	}
	if !r.Objects.Has(good.layer.Digest) {
		t.Fatal("the layer was not stored")
	}
	checkFsck(t, r)
}

// ReceiveLayer stores a layer whose tar has a diff id claimed, and
// nothing of one that has none.
func TestReceiveLayer(t *testing.T) {
	r := newRepo(t)
	tarball := tarLayer(t)
	blob := zstdBytes(t, tarball)
	desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer + "+zstd", Digest: digest.FromBytes(blob), Size: int64(len(blob))}
	got, err := r.Objects.ReceiveLayer(context.Background(), bytes.NewReader(blob), desc, []digest.Digest{digest.FromString("x")})
	if !errors.Is(err, objects.ErrDigestMismatch) || got != digest.FromBytes(tarball) || r.Objects.Has(desc.Digest) {
		t.Fatalf("a wrong diff id: %s, %v (stored: %v)", got, err, r.Objects.Has(desc.Digest))
	}
	got, err = r.Objects.ReceiveLayer(context.Background(), bytes.NewReader(blob[:len(blob)-1]), desc, []digest.Digest{digest.FromBytes(tarball)})
	if !errors.Is(err, objects.ErrDigestMismatch) || got != "" || r.Objects.Has(desc.Digest) {
		t.Fatalf("a short blob: %s, %v", got, err)
	}
	got, err = r.Objects.ReceiveLayer(context.Background(), bytes.NewReader(blob), desc, []digest.Digest{digest.FromString("x"), digest.FromBytes(tarball)})
	if err != nil || got != digest.FromBytes(tarball) || !r.Objects.Has(desc.Digest) {
		t.Fatalf("a right diff id: %s, %v", got, err)
	}
}

// A registry's commit that names a layer the store already has, indexed
// with its diff id recorded, under another diff id, is refused without
// the layer being read again; the stored layer stays.
func TestFetchChecksDiffIDOfStoredLayer(t *testing.T) {
	r := newRepo(t)
	id := commitFile(t, r, "main", "etc/hello", "hello")
	c, err := r.Objects.ReadCommit(id)
	if err != nil {
		t.Fatal(err)
	}
	l := c.Layers()[0]
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
	id := commitFile(t, r, "main", "etc/hello", "hello")
	c, err := r.Objects.ReadCommit(id)
	if err != nil {
		t.Fatal(err)
	}
	l := c.Layers()[0]
	other := digest.FromString("other")
	bad, err := r.Objects.WriteCommit(objects.NewCommit{Parent: c, Layers: []objects.Layer{{Desc: l.Desc, DiffID: other}},
		Date: time.Unix(1700000000, 0), Message: "a lie", OS: "linux", Architecture: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Refs.Update(refs.Heads+"liar", bad.ID, "", "test"); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "shared")
	_, err = connect(t, r, "shared", dir, Options{}).Push(context.Background(), r, refs.Heads+"liar", PushOptions{})
	want := "its content has diff id " + l.DiffID.String() + ", the commit says " + other.String()
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

// A layer fetched is recorded with the diff id it was found to have: a
// later fetch of a commit that pairs it with another is refused, though
// the layer is not downloaded again.
func TestFetchRecordsDiffID(t *testing.T) {
	tarball := tarLayer(t)
	blob := zstdBytes(t, tarball)
	h := newHostileRegistry(t)
	good := h.addImageAs(t, blob, ocispec.MediaTypeImageLayer+"+zstd", digest.FromBytes(tarball).String(), "good")
	liar := h.addImageAs(t, blob, ocispec.MediaTypeImageLayer+"+zstd", digest.FromString("x").String(), "liar")
	r := newRepo(t)
	s := connect(t, r, "origin", h.host+"/env", Options{Jobs: 1})
	if _, err := s.Fetch(context.Background(), r, []string{"good"}); err != nil {
		t.Fatal(err)
	}
	if got := r.Objects.VerifiedDiffID(good.layer.Digest); got != digest.FromBytes(tarball) {
		t.Fatalf("diff id record: %q", got)
	}
	_, err := s.Fetch(context.Background(), r, []string{"liar"})
	if err == nil || !strings.Contains(err.Error(), "its content has diff id") || !strings.Contains(err.Error(), short(liar.id)) {
		t.Fatalf("fetch liar: %v", err)
	}
	checkFsck(t, r)
}

// The same with a layer whose first recompression is for the lying
// commit: the hash of the tar read for it finds the lie.
func TestPushGzipChecksDiffID(t *testing.T) {
	r := newRepo(t)
	id := commitFile(t, r, "main", "etc/hello", "hello")
	c, err := r.Objects.ReadCommit(id)
	if err != nil {
		t.Fatal(err)
	}
	solo, err := r.Objects.ReadCommit(commitFile(t, r, "solo", "etc/solo", "solo"))
	if err != nil {
		t.Fatal(err)
	}
	l := solo.Layers()[0]
	other := digest.FromString("other")
	bad, err := r.Objects.WriteCommit(objects.NewCommit{Parent: c, Layers: []objects.Layer{{Desc: l.Desc, DiffID: other}},
		Date: time.Unix(1700000000, 0), Message: "a lie", OS: "linux", Architecture: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Refs.Update(refs.Heads+"liar", bad.ID, "", "test"); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "shared")
	_, err = connect(t, r, "shared", dir, Options{}).Push(context.Background(), r, refs.Heads+"liar", PushOptions{Compression: "gzip"})
	want := "its content has diff id " + l.DiffID.String() + ", the commit says " + other.String()
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), short(bad.ID)) {
		t.Fatalf("push --compression gzip liar: %v, want %q", err, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "index.json")); err == nil {
		t.Fatal("something was pushed")
	}
}
