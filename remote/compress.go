package remote

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/repo"
)

// convertHistoryGzip rewrites the history of tip with every zstd layer
// recompressed as gzip, for registries and clients without zstd. Layers
// and manifests change, so every commit gets a new id: each rewritten
// manifest names its rewritten parent. The gzip stream has no name and no
// time, so the same history always converts to the same ids.
func convertHistoryGzip(ctx context.Context, r *repo.Repo, tip digest.Digest) (digest.Digest, error) {
	var chain []digest.Digest
	for d := tip; d != ""; {
		chain = append(chain, d)
		p, err := r.Objects.Parent(d)
		if err != nil {
			return "", err
		}
		if p != "" && !r.Objects.Has(p) {
			break
		}
		d = p
	}
	layers := map[digest.Digest]ocispec.Descriptor{}
	var parent digest.Digest
	for i := len(chain) - 1; i >= 0; i-- {
		raw, err := r.Objects.ReadBlob(chain[i])
		if err != nil {
			return "", err
		}
		var m ocispec.Manifest
		if err := json.Unmarshal(raw, &m); err != nil {
			return "", fmt.Errorf("commit %s: %w", short(chain[i]), err)
		}
		for j, l := range m.Layers {
			if l.MediaType != ocispec.MediaTypeImageLayerZstd {
				continue
			}
			g, ok := layers[l.Digest]
			if !ok {
				if g, err = gzipLayer(ctx, r.Objects, l); err != nil {
					return "", err
				}
				layers[l.Digest] = g
			}
			m.Layers[j] = g
		}
		if parent != "" {
			if m.Annotations == nil {
				m.Annotations = map[string]string{}
			}
			m.Annotations[objects.AnnotationParent] = parent.String()
		}
		desc, err := r.Objects.PutJSON(ocispec.MediaTypeImageManifest, m)
		if err != nil {
			return "", err
		}
		parent = desc.Digest
	}
	return parent, nil
}

func gzipLayer(ctx context.Context, st *objects.Store, l ocispec.Descriptor) (ocispec.Descriptor, error) {
	rc, err := st.OpenLayer(l)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	defer rc.Close()
	pr, pw := io.Pipe()
	go func() {
		zw, _ := gzip.NewWriterLevel(pw, gzip.DefaultCompression)
		_, err := io.Copy(zw, objects.ContextReader(ctx, rc))
		if cerr := zw.Close(); err == nil {
			err = cerr
		}
		pw.CloseWithError(err)
	}()
	desc, err := st.Put(ctx, pr, "")
	pr.CloseWithError(io.ErrClosedPipe)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("gzip layer %s: %w", short(l.Digest), err)
	}
	desc.MediaType = ocispec.MediaTypeImageLayerGzip
	return desc, nil
}
