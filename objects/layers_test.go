package objects

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/objects/layer/layertest"
)

func layerTree(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("needs root (the fixture has owners and devices): run the tests as root")
	}
	dir := t.TempDir()
	layertest.Build(t, dir, layertest.Everything)
	return dir
}

func TestAddLayerFromDir(t *testing.T) {
	s, src := newTestStore(t), layerTree(t)
	info, err := s.AddLayerFromDir(context.Background(), src, layer.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if info.Desc.MediaType != ocispec.MediaTypeImageLayerZstd || !s.Has(info.Desc.Digest) {
		t.Fatalf("layer %+v not stored as zstd", info.Desc)
	}
	idx, err := s.LayerIndex(info)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := s.OpenLayer(info.Desc)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tarball, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	diffID, entries, err := layer.Index(bytes.NewReader(tarball))
	if err != nil {
		t.Fatal(err)
	}
	if diffID != info.DiffID || !reflect.DeepEqual(idx, entries) {
		t.Errorf("stored index or diff id (%s) does not match the layer (%s)", info.DiffID, diffID)
	}
	dst := t.TempDir()
	if err := layer.Unpack(context.Background(), bytes.NewReader(tarball), dst, layer.Apply); err != nil {
		t.Fatal(err)
	}
	layertest.Compare(t, src, dst)

	// A lost index is rebuilt from the blob.
	if err := s.RemoveLayerIndex(info.Desc.Digest); err != nil {
		t.Fatal(err)
	}
	again, err := s.LayerIndex(info)
	if err != nil || !reflect.DeepEqual(again, idx) {
		t.Errorf("rebuilt index differs (err %v)", err)
	}
	if _, err := os.Stat(s.indexPath(info.Desc.Digest)); err != nil {
		t.Errorf("rebuilt index not saved: %v", err)
	}
}

// foreignLayers packs the tar of dir as other tools would.
func foreignLayers(t *testing.T, dir string) (tarball []byte, packed map[string][]byte) {
	t.Helper()
	var buf bytes.Buffer
	if _, err := layer.WriteTar(context.Background(), dir, &buf, layer.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	var gz, zs bytes.Buffer
	gw := gzip.NewWriter(&gz)
	gw.Write(buf.Bytes())
	if err := gw.Close(); err != nil {
		t.Fatal(err)
	}
	zw, _ := zstd.NewWriter(&zs)
	zw.Write(buf.Bytes())
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), map[string][]byte{
		ocispec.MediaTypeImageLayer: buf.Bytes(), ocispec.MediaTypeImageLayerGzip: gz.Bytes(), ocispec.MediaTypeImageLayerZstd: zs.Bytes(),
	}
}

func TestAddLayerForeign(t *testing.T) {
	tarball, packed := foreignLayers(t, layerTree(t))
	wantDiff := digest.FromBytes(tarball)
	for mediaType, blob := range packed {
		s := newTestStore(t)
		d := digest.FromBytes(blob)
		info, err := s.AddLayer(context.Background(), bytes.NewReader(blob), ocispec.Descriptor{Digest: d, Size: int64(len(blob))}, wantDiff)
		if err != nil {
			t.Fatalf("%s: %v", mediaType, err)
		}
		if info.Desc.Digest != d || info.Desc.MediaType != mediaType || info.DiffID != wantDiff {
			t.Errorf("%s: got %+v", mediaType, info)
		}
		if _, err := s.LayerIndex(info); err != nil {
			t.Errorf("%s: %v", mediaType, err)
		}
		rc, err := s.OpenLayer(info.Desc)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, tarball) {
			t.Errorf("%s: OpenLayer gave %d bytes (err %v), want the %d-byte tar", mediaType, len(got), err, len(tarball))
		}
	}
}

func TestAddLayerMismatchStoresNothing(t *testing.T) {
	tarball, packed := foreignLayers(t, layerTree(t))
	blob := packed[ocispec.MediaTypeImageLayerGzip]
	good := ocispec.Descriptor{Digest: digest.FromBytes(blob), Size: int64(len(blob))}
	cases := map[string]struct {
		desc   ocispec.Descriptor
		diffID digest.Digest
	}{
		"wrong digest":                 {ocispec.Descriptor{Digest: digest.FromString("other")}, ""},
		"wrong size":                   {ocispec.Descriptor{Digest: good.Digest, Size: good.Size + 1}, ""},
		"wrong diff id":                {good, digest.FromString("other tar")},
		"compressed digest as diff id": {good, good.Digest},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			s := newTestStore(t)
			_, err := s.AddLayer(context.Background(), bytes.NewReader(blob), c.desc, c.diffID)
			if !errors.Is(err, ErrDigestMismatch) {
				t.Fatalf("err = %v, want ErrDigestMismatch", err)
			}
			var blobs []digest.Digest
			s.Walk(func(d digest.Digest, _ int64) error { blobs = append(blobs, d); return nil })
			if len(blobs) != 0 || len(tempFiles(t, s)) != 0 {
				t.Errorf("left blobs %v, temp files %v", blobs, tempFiles(t, s))
			}
			if _, err := os.Stat(s.indexPath(good.Digest)); err == nil {
				t.Error("left an index")
			}
		})
	}
	_ = tarball
}

func TestOpenLayerDetectsCorruptBlob(t *testing.T) {
	tarball, packed := foreignLayers(t, layerTree(t))
	for mediaType, blob := range packed {
		s := newTestStore(t)
		info, err := s.AddLayer(context.Background(), bytes.NewReader(blob), ocispec.Descriptor{Digest: digest.FromBytes(blob)}, "")
		if err != nil {
			t.Fatal(err)
		}
		// Flip a byte inside the first file's content (plain) or the stream.
		bad := bytes.Clone(blob)
		bad[len(bad)/2] ^= 0x40
		p := s.BlobPath(info.Desc.Digest)
		os.Chmod(p, 0o644)
		if err := os.WriteFile(p, bad, 0o444); err != nil {
			t.Fatal(err)
		}
		rc, err := s.OpenLayer(info.Desc)
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.ReadAll(rc)
		rc.Close()
		if err == nil {
			t.Errorf("%s: corrupt blob read without error", mediaType)
		}
		if mediaType == ocispec.MediaTypeImageLayer && !errors.Is(err, ErrDigestMismatch) {
			t.Errorf("%s: err = %v, want ErrDigestMismatch", mediaType, err)
		}
	}
	_ = tarball
}

// A fetched layer is stored with only its blob digest checked; its file
// index is built later and must then check the diff id the commit claims,
// or an index would stand for a diff id nobody verified.
func TestLayerIndexChecksDiffID(t *testing.T) {
	tarball, packed := foreignLayers(t, layerTree(t))
	blob := packed[ocispec.MediaTypeImageLayerGzip]
	desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: digest.FromBytes(blob), Size: int64(len(blob))}
	s := newTestStore(t)
	if _, err := s.Put(context.Background(), bytes.NewReader(blob), desc.Digest); err != nil {
		t.Fatal(err)
	}
	// A failed AddLayer of a blob already present leaves it present.
	if _, err := s.AddLayer(context.Background(), bytes.NewReader(blob), desc, digest.FromString("lie")); !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("AddLayer with a false diff id: err = %v", err)
	}
	if !s.Has(desc.Digest) || s.HasLayerIndex(desc.Digest) {
		t.Fatalf("after a refused AddLayer: blob present %v (want true), index present %v (want false)", s.Has(desc.Digest), s.HasLayerIndex(desc.Digest))
	}
	for _, lie := range []digest.Digest{digest.FromString("lie"), desc.Digest, ""} {
		_, err := s.LayerIndex(Layer{Desc: desc, DiffID: lie})
		if !errors.Is(err, ErrDigestMismatch) || !strings.Contains(err.Error(), desc.Digest.String()) {
			t.Errorf("LayerIndex with diff id %q: err = %v, want ErrDigestMismatch naming the layer", lie, err)
		}
		if s.HasLayerIndex(desc.Digest) {
			t.Fatalf("LayerIndex with diff id %q wrote an index", lie)
		}
	}
	if _, err := s.LayerIndex(Layer{Desc: desc, DiffID: digest.FromBytes(tarball)}); err != nil {
		t.Fatal(err)
	}
	if !s.HasLayerIndex(desc.Digest) {
		t.Error("LayerIndex with the true diff id wrote no index")
	}
}

// TestDamagedLayerIndexMadeAgain: a file index is derived from the blob;
// a truncated one is made again from it, by LayerIndex and by
// LayerIndexFunc, rather than failing every reader (fsck, status) for good.
func TestDamagedLayerIndexMadeAgain(t *testing.T) {
	s := newTestStore(t)
	l, err := s.AddLayerFromDir(context.Background(), layerTree(t), layer.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := s.LayerIndex(l)
	if err != nil {
		t.Fatal(err)
	}
	for name, read := range map[string]func() ([]layer.Entry, error){
		"LayerIndex":     func() ([]layer.Entry, error) { return s.LayerIndex(l) },
		"LayerIndexFunc": func() ([]layer.Entry, error) { return s.LayerIndexFunc(l, func(*layer.Entry) bool { return true }) },
	} {
		p := s.indexPath(l.Desc.Digest)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, 0o644)
		if err := os.WriteFile(p, b[:len(b)*2/3], 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := read()
		if err != nil || len(got) != len(want) {
			t.Fatalf("%s of a truncated index: %d entries, %v; want %d", name, len(got), err, len(want))
		}
		if again, err := os.ReadFile(p); err != nil || !bytes.Equal(again, b) {
			t.Fatalf("%s: the index was not made again (%v)", name, err)
		}
	}
}
