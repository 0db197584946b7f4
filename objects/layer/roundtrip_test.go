package layer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"os"
	"reflect"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/objects/layer/layertest"
)

func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("needs root (owners, devices and trusted xattrs): run the tests as root")
	}
}

// create makes a layer of dir and returns the compressed bytes.
func create(t testing.TB, dir string, opts WriteOptions) ([]byte, Result) {
	t.Helper()
	var buf bytes.Buffer
	res, err := Create(context.Background(), dir, &buf, opts)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), res
}

func unpack(t testing.TB, compressed []byte, dir string, mode UnpackMode) {
	t.Helper()
	r, err := Decompress(bytes.NewReader(compressed))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := Unpack(context.Background(), r, dir, mode); err != nil {
		t.Fatal(err)
	}
}

func TestRoundTrip(t *testing.T) {
	requireRoot(t)
	src, dst := t.TempDir(), t.TempDir()
	layertest.Build(t, src, layertest.Everything)
	blob, res := create(t, src, WriteOptions{})
	unpack(t, blob, dst, Apply)
	layertest.Compare(t, src, dst)

	// The diff id is the sha256 of the uncompressed tar.
	r, err := Decompress(bytes.NewReader(blob))
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		t.Fatal(err)
	}
	if got := digest.NewDigest(digest.SHA256, h); got != res.DiffID || n != res.Size {
		t.Errorf("diff id %s size %d, Create said %s size %d", got, n, res.DiffID, res.Size)
	}
}

func TestReproducible(t *testing.T) {
	requireRoot(t)
	a, b := t.TempDir(), t.TempDir()
	layertest.Build(t, a, layertest.Everything)
	layertest.Build(t, b, layertest.Everything) // other inodes, other ctimes
	blobA, resA := create(t, a, WriteOptions{})
	blobA2, resA2 := create(t, a, WriteOptions{})
	blobB, resB := create(t, b, WriteOptions{})
	if resA.DiffID != resA2.DiffID || resA.DiffID != resB.DiffID {
		t.Errorf("diff ids differ: %s %s %s", resA.DiffID, resA2.DiffID, resB.DiffID)
	}
	if !bytes.Equal(blobA, blobA2) || !bytes.Equal(blobA, blobB) {
		t.Errorf("compressed layers differ: %s %s %s", digest.FromBytes(blobA), digest.FromBytes(blobA2), digest.FromBytes(blobB))
	}
}

func TestIndexMatchesTree(t *testing.T) {
	requireRoot(t)
	src := t.TempDir()
	layertest.Build(t, src, layertest.Everything)
	var tarBuf bytes.Buffer
	entries, err := WriteTar(context.Background(), src, &tarBuf, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	diffID, indexed, err := Index(bytes.NewReader(tarBuf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if diffID != digest.FromBytes(tarBuf.Bytes()) {
		t.Errorf("Index diff id %s, want %s", diffID, digest.FromBytes(tarBuf.Bytes()))
	}
	if !reflect.DeepEqual(entries, indexed) {
		t.Errorf("WriteTar index and Index differ:\n%v\n%v", entries, indexed)
	}
	byPath := map[string]Entry{}
	for _, e := range entries {
		byPath[e.Path] = e
	}
	if len(byPath) != len(entries) {
		t.Errorf("index has %d entries for %d paths", len(entries), len(byPath))
	}
	for p, n := range layertest.Everything {
		e, ok := byPath["/"+p]
		if !ok {
			t.Errorf("%s missing from index", p)
			continue
		}
		want := map[byte]EntryType{0: TypeFile, 'f': TypeFile, 'd': TypeDir, 'l': TypeSymlink, 'h': TypeHardlink, 'c': TypeChar, 'b': TypeBlock, 'p': TypeFIFO}[n.Kind]
		if e.Type != want || e.UID != n.UID || e.GID != n.GID {
			t.Errorf("%s: got type %c uid %d gid %d, want %c %d %d", p, e.Type, e.UID, e.GID, want, n.UID, n.GID)
		}
		if n.Kind == 'h' && e.Link != "/"+n.Link {
			t.Errorf("%s: hardlink to %q, want %q", p, e.Link, "/"+n.Link)
		}
		if (n.Kind == 0 || n.Kind == 'h') && e.Digest == "" {
			t.Errorf("%s: no content digest", p)
		}
		if (len(n.Xattrs) > 0) != (e.Xattrs != "") {
			t.Errorf("%s: xattr digest %q for %d xattrs", p, e.Xattrs, len(n.Xattrs))
		}
	}
	if a, b := byPath["/usr/bin/zsh"].Digest, byPath["/usr/bin/busybox"].Digest; a != b {
		t.Errorf("hardlink digest %s, target %s", a, b)
	}

	var enc bytes.Buffer
	if err := EncodeIndex(&enc, entries); err != nil {
		t.Fatal(err)
	}
	decoded, err := DecodeIndex(bytes.NewReader(enc.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(decoded, entries) {
		t.Errorf("DecodeIndex(EncodeIndex(x)) != x:\n%s", enc.String())
	}
}
