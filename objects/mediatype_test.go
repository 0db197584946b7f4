package objects

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/objects/layer"
)

func mediaBlobs(t *testing.T) map[string][]byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	tw.WriteHeader(&tar.Header{Name: "a", Mode: 0o644, Size: 1, Typeflag: tar.TypeReg})
	tw.Write([]byte("a"))
	tw.Close()
	var g, z bytes.Buffer
	gw := gzip.NewWriter(&g)
	gw.Write(b.Bytes())
	gw.Close()
	zw, _ := zstd.NewWriter(&z)
	zw.Write(b.Bytes())
	zw.Close()
	return map[string][]byte{"tar": b.Bytes(), "gzip": g.Bytes(), "zstd": z.Bytes()}
}

var labels = map[string]string{
	"tar":  ocispec.MediaTypeImageLayer,
	"gzip": ocispec.MediaTypeImageLayerGzip,
	"zstd": ocispec.MediaTypeImageLayerZstd,
}

// A layer whose bytes are not what its media type says is refused on
// import, when it is opened (checkout's unpack) and when its index is
// built, with one line naming the layer and what it holds.
func TestLayerMediaTypeChecked(t *testing.T) {
	blobs := mediaBlobs(t)
	for label, mt := range labels {
		for holds, blob := range blobs {
			if label == holds {
				continue
			}
			s := newTestStore(t)
			d := digest.FromBytes(blob)
			desc := ocispec.Descriptor{MediaType: mt, Digest: d, Size: int64(len(blob))}
			check := func(what string, err error) {
				t.Helper()
				msg := ""
				if err != nil {
					msg = err.Error()
				}
				if !errors.Is(err, layer.ErrMediaType) || !strings.Contains(msg, d.String()) ||
					!strings.Contains(msg, "the content is "+holds) || strings.Contains(msg, "\n") {
					t.Errorf("%s: %s holding %s: %v", what, label, holds, err)
				}
			}
			_, err := s.AddLayer(context.Background(), bytes.NewReader(blob), desc, "")
			check("AddLayer", err)
			if s.Has(d) || s.HasLayerIndex(d) {
				t.Errorf("AddLayer: %s holding %s was stored", label, holds)
			}
			// As fetch stores it: the raw blob, checked when first read.
			if _, err := s.Put(context.Background(), bytes.NewReader(blob), d); err != nil {
				t.Fatal(err)
			}
			_, err = s.OpenLayer(desc)
			check("OpenLayer", err)
			_, err = s.LayerIndex(Layer{Desc: desc})
			check("LayerIndex", err)
			if s.HasLayerIndex(d) {
				t.Errorf("LayerIndex: %s holding %s got an index", label, holds)
			}
		}
	}
	// Matching and unlabelled blobs are read.
	for holds, blob := range blobs {
		s := newTestStore(t)
		desc := ocispec.Descriptor{MediaType: labels[holds], Digest: digest.FromBytes(blob), Size: int64(len(blob))}
		l, err := s.AddLayer(context.Background(), bytes.NewReader(blob), desc, "")
		if err != nil {
			t.Errorf("AddLayer %s: %v", holds, err)
		}
		if _, err := s.AddLayer(context.Background(), bytes.NewReader(blob), ocispec.Descriptor{}, ""); err != nil {
			t.Errorf("AddLayer %s unlabelled: %v", holds, err)
		}
		if err := s.RemoveLayerIndex(desc.Digest); err != nil {
			t.Fatal(err)
		}
		if _, err := s.LayerIndex(Layer{Desc: desc, DiffID: l.DiffID}); err != nil {
			t.Errorf("LayerIndex %s: %v", holds, err)
		}
	}
}
