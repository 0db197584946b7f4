package worktree

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/objects/objectstest"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/snapshot"
)

// TestUnpackChecksDiffID: a fetched layer is verified by its blob digest
// only; the unpack that makes its snapshot checks the diff id the commit
// claims, so a layer that lies never becomes a snapshot another image
// would share. The same pass writes the layer's missing file index.
func TestUnpackChecksDiffID(t *testing.T) {
	ctx := context.Background()
	r, _, l := storedBase(t)
	var err error
	// As a fetch leaves it: the blob, no index.
	must(t, r.Objects.RemoveLayerIndex(l.Desc.Digest))

	w := checkoutLie(t, r, l, "layer")

	// The honest commit checks out and leaves the index written.
	c, err := r.Objects.WriteCommit(objects.NewCommit{Layers: []objects.Layer{l}, Author: "T <t@example.com>",
		Date: time.Unix(1700000000, 0), Message: "honest", OS: "linux", Architecture: "amd64"})
	must(t, err)
	_, err = w.Checkout(ctx, CheckoutOptions{Rev: c.ID.String(), Force: true})
	must(t, err)
	if !r.Objects.HasLayerIndex(l.Desc.Digest) {
		t.Fatal("unpacking did not write the layer's file index")
	}
	entries, err := r.Objects.LayerIndex(l)
	must(t, err)
	if len(entries) == 0 {
		t.Fatal("empty index")
	}
}

// TestUnpackRefusesBlobChangedOnDisk: the unpack does not hash the stored
// blob again (it was verified when it entered the store), so a blob
// changed on disk since, here into another well-formed layer, must be
// caught by the diff id check of the same pass.
func TestUnpackRefusesBlobChangedOnDisk(t *testing.T) {
	ctx := context.Background()
	r, base, l := storedBase(t)
	must(t, os.WriteFile(filepath.Join(base, "etc", "swapped"), []byte("not the committed content"), 0o644))
	other, err := r.Objects.AddLayerFromDir(ctx, base, layer.WriteOptions{})
	must(t, err)
	commitLayers_(t, r, "honest", l)

	b, err := os.ReadFile(r.Objects.BlobPath(other.Desc.Digest))
	must(t, err)
	p := r.Objects.BlobPath(l.Desc.Digest)
	must(t, os.Chmod(p, 0o644))
	must(t, os.WriteFile(p, b, 0o444))

	w := Main(r)
	unmountAll(t, w.Target())
	_, err = w.Checkout(ctx, CheckoutOptions{Rev: "main"})
	if !errors.Is(err, objects.ErrDigestMismatch) {
		t.Fatalf("checkout of a blob changed on disk: %v", err)
	}
	s := snapshot.NewSnapshots(r.Objects)
	if _, err := os.Stat(s.Path(l.DiffID.Encoded())); !os.IsNotExist(err) {
		t.Fatalf("a snapshot was made of the changed blob: %v", err)
	}
}

// TestUnpackOfKnownBlobChecksClaim: a blob whose diff id was recorded is
// unpacked checking its blob digest instead of its diff id, but only for
// a commit that claims the recorded diff id. One that pairs the same blob
// with another diff id still gets the diff id checked, and refused.
func TestUnpackOfKnownBlobChecksClaim(t *testing.T) {
	r, _, l := storedBase(t)
	if got := r.Objects.VerifiedDiffID(l.Desc.Digest); got != l.DiffID {
		t.Fatalf("import recorded diff id %q, want %s", got, l.DiffID)
	}
	checkoutLie(t, r, l, "known blob")
	if got := r.Objects.VerifiedDiffID(l.Desc.Digest); got != l.DiffID {
		t.Fatalf("the refused claim changed the record to %q", got)
	}
}

// TestUnpackRecordsDiffIDOfOldIndex: an index written before diff id
// records existed gets its record from the first unpack that hashes the
// tar and finds the diff id the commit claims.
func TestUnpackRecordsDiffIDOfOldIndex(t *testing.T) {
	ctx := context.Background()
	r, _, l := storedBase(t)
	var err error
	must(t, os.Remove(diffIDRecord(r, l)))
	commitLayers_(t, r, "old", l)
	w := Main(r)
	unmountAll(t, w.Target())
	_, err = w.Checkout(ctx, CheckoutOptions{Rev: "main"})
	must(t, err)
	if got := r.Objects.VerifiedDiffID(l.Desc.Digest); got != l.DiffID {
		t.Fatalf("after the unpack the record says %q, want %s", got, l.DiffID)
	}
}

// storedBase makes a repository and stores the base tree in it as a
// layer (with its index and diff id record), as an import does.
func storedBase(t *testing.T) (*repo.Repo, string, objects.Layer) {
	t.Helper()
	requireRoot(t)
	r := newRepo(t)
	base := filepath.Join(t.TempDir(), "base")
	writeBase(t, base)
	l, err := r.Objects.AddLayerFromDir(context.Background(), base, layer.WriteOptions{})
	must(t, err)
	return r, base, l
}

// checkoutLie commits layer l under a false diff id and checks that its
// checkout is refused and makes no snapshot under that diff id.
func checkoutLie(t *testing.T, r *repo.Repo, l objects.Layer, what string) *Worktree {
	t.Helper()
	lie := objects.Layer{Desc: l.Desc, DiffID: digestOf("not this layer")}
	commitLayers_(t, r, "liar", lie)
	w := Main(r)
	unmountAll(t, w.Target())
	_, err := w.Checkout(context.Background(), CheckoutOptions{Rev: "main"})
	if !errors.Is(err, objects.ErrDigestMismatch) {
		t.Fatalf("checkout of a %s with a false diff id: %v", what, err)
	}
	s := snapshot.NewSnapshots(r.Objects)
	if _, err := os.Stat(s.Path(lie.DiffID.Encoded())); !os.IsNotExist(err) {
		t.Fatalf("a snapshot was made under the false diff id: %v", err)
	}
	return w
}

// TestUnpackOfLayerWithoutDiffID: a commit whose layer names no diff id
// (a config from elsewhere can say anything) is refused with an error
// naming it, and never matches a missing record.
func TestUnpackOfLayerWithoutDiffID(t *testing.T) {
	r, _, l := storedBase(t)
	must(t, os.Remove(diffIDRecord(r, l)))
	c := commitLayers_(t, r, "honest", l)
	hostile := objectstest.WithConfig(t, r.Objects, c, func(img *ocispec.Image) { img.RootFS.DiffIDs[0] = "" })
	w := Main(r)
	unmountAll(t, w.Target())
	_, err := w.Checkout(context.Background(), CheckoutOptions{Rev: hostile.String()})
	if err == nil || !strings.Contains(err.Error(), "diff id 0") {
		t.Fatalf("checkout of a layer without a diff id: %v", err)
	}
}

// diffIDRecord is where layer l's diff id record is kept.
func diffIDRecord(r *repo.Repo, l objects.Layer) string {
	blobs := filepath.Dir(filepath.Dir(r.Objects.BlobPath(l.Desc.Digest)))
	return filepath.Join(filepath.Dir(blobs), "indexes", "sha256", l.Desc.Digest.Encoded()+".diffid")
}

// TestVerifySymlinkMode: a tar may give a symlink any mode (Python's
// tarfile writes 0644), but Linux gives every symlink 0777 and nothing
// changes it. Verify must not report that, in a layer's snapshot nor in
// a flattened one: fsck --repair would remove the snapshot, and the next
// checkout build it the same again.
func TestVerifySymlinkMode(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	r := newRepo(t)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	must(t, tw.WriteHeader(&tar.Header{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o755}))
	must(t, tw.WriteHeader(&tar.Header{Name: "bin/sh", Typeflag: tar.TypeSymlink, Linkname: "busybox", Mode: 0o644}))
	must(t, tw.Close())
	l, err := r.Objects.AddLayer(ctx, bytes.NewReader(buf.Bytes()), ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer}, "")
	must(t, err)
	commitLayers_(t, r, "symlink", l)
	checkoutMain(t, r, "main")
	commitLayers_(t, r, "deep", append([]objects.Layer{l}, deepLayers(t, r, snapshot.MaxLowers)...)...)
	w := checkoutMain(t, r, "main")
	if fi, err := os.Lstat(w.Target() + "/bin/sh"); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("/bin/sh: %v, %v", fi, err)
	}
	if chains, _ := filepath.Glob(filepath.Join(r.Root, "snapshots", "chain-*", "fs", "bin", "sh")); len(chains) != 1 {
		t.Fatalf("no flattened snapshot holds /bin/sh: %v", chains)
	}
	n, diffs, err := snapshot.NewSnapshots(r.Objects).Verify(ctx, applyLayer)
	must(t, err)
	if n < 3 || len(diffs) != 0 {
		t.Fatalf("Verify: %d checked, %v", n, diffs)
	}
}
