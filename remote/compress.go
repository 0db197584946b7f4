package remote

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/klauspost/compress/gzip"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/repo"
)

// convertHistoryGzip rewrites the history of tip with every zstd layer
// recompressed as gzip, for registries and clients without zstd. A layer
// converted before is not recompressed: its gzip twin is recorded in the
// store (objects.GzipTwin), with the diff id found for its tar then (one
// the commit disagrees with is checked by recompressing, while the zstd
// layer is stored). Layers
// and manifests change, so every commit with a zstd layer or a rewritten
// parent gets a new id: each rewritten manifest names its rewritten
// parents. The others keep theirs. The gzip stream has no name and no
// time, so the same history always converts to the same ids.
func convertHistoryGzip(ctx context.Context, r *repo.Repo, tip digest.Digest) (digest.Digest, error) {
	// Every ancestor the store has, through both parents, parents before
	// children, so that each rewritten manifest names rewritten parents.
	var ids []digest.Digest
	err := repo.WalkAncestors(r.Objects, tip, func(d digest.Digest) bool {
		if r.Objects.Has(d) { // a shallow history keeps its cut parent
			ids = append(ids, d)
		}
		return true
	})
	if err != nil {
		return "", err
	}
	raws := map[digest.Digest]*ocispec.Manifest{}
	for _, d := range ids {
		raw, err := r.Objects.ReadBlob(d)
		if err != nil {
			return "", err
		}
		var m ocispec.Manifest
		if err := json.Unmarshal(raw, &m); err != nil {
			return "", fmt.Errorf("commit %s: %w", short(d), err)
		}
		raws[d] = &m
	}
	order := topoOrder(ids, func(d digest.Digest) digest.Digest { return d }, func(d digest.Digest) []digest.Digest {
		return parentsOfManifest(raws[d])
	})
	type converted struct {
		desc   ocispec.Descriptor
		diffID digest.Digest // the tar's, checked
	}
	layers := map[digest.Digest]converted{}
	rewritten := map[digest.Digest]digest.Digest{}
	for i := len(order) - 1; i >= 0; i-- {
		m := raws[order[i]]
		var cfg ocispec.Image
		if err := r.Objects.ReadJSON(m.Config.Digest, &cfg); err != nil {
			return "", fmt.Errorf("commit %s: config: %w", short(order[i]), err)
		}
		if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
			return "", fmt.Errorf("commit %s: %d layers but %d diff ids: %w", short(order[i]), len(m.Layers), len(cfg.RootFS.DiffIDs), ErrBadImage)
		}
		changed := false
		for j, l := range m.Layers {
			if l.MediaType != ocispec.MediaTypeImageLayerZstd {
				continue
			}
			want := cfg.RootFS.DiffIDs[j]
			g, ok := layers[l.Digest]
			if !ok {
				g.desc, g.diffID, ok = r.Objects.GzipTwin(l.Digest)
				if ok && g.diffID != want && r.Objects.Has(l.Digest) {
					// The record and the commit disagree: the tar, still
					// here, decides. A record rewritten (or one whose
					// digits rotted) made every gzip push of the history
					// fail, blaming the commit; a commit that lies is
					// refused by the recompression's own check.
					ok = false
				}
				if !ok {
					desc, err := gzipLayer(ctx, r.Objects, l, want)
					if err != nil {
						return "", fmt.Errorf("commit %s: %w", short(order[i]), err)
					}
					g = converted{desc, want}
					if err := r.Objects.RecordGzipTwin(l.Digest, desc, want); err != nil {
						slog.Debug("push: gzip twin not recorded", "layer", l.Digest, "why", err)
					}
				}
				layers[l.Digest] = g
			}
			if g.diffID != want {
				return "", fmt.Errorf("commit %s: gzip layer %s: its content has diff id %s, the commit says %s: %w", short(order[i]), short(l.Digest), g.diffID, want, objects.ErrDigestMismatch)
			}
			m.Layers[j] = g.desc
			changed = true
		}
		for _, a := range []string{objects.AnnotationParent, objects.AnnotationMergeParent} {
			if p, ok := rewritten[digest.Digest(m.Annotations[a])]; ok && p.String() != m.Annotations[a] {
				m.Annotations[a] = p.String()
				changed = true
			}
		}
		if !changed {
			// No zstd layer, no rewritten parent (an image pulled with
			// gzip layers): the commit goes as it is, under its own id.
			rewritten[order[i]] = order[i]
			continue
		}
		desc, err := r.Objects.PutJSON(ocispec.MediaTypeImageManifest, m)
		if err != nil {
			return "", err
		}
		rewritten[order[i]] = desc.Digest
	}
	return rewritten[tip], nil
}

func parentsOfManifest(m *ocispec.Manifest) []digest.Digest {
	var out []digest.Digest
	for _, a := range []string{objects.AnnotationParent, objects.AnnotationMergeParent} {
		if p := digest.Digest(m.Annotations[a]); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// gzipLayer recompresses zstd layer l as gzip. The tar it reads is
// hashed on the way and must have diffID, the one its commit claims: a
// layer that lies is not sent (its tar is read anyway, so the check costs
// a hash, not a read).
func gzipLayer(ctx context.Context, st *objects.Store, l ocispec.Descriptor, diffID digest.Digest) (ocispec.Descriptor, error) {
	rc, err := st.OpenLayer(l)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	defer rc.Close()
	pr, pw := io.Pipe()
	go func() {
		zw, _ := gzip.NewWriterLevel(pw, gzip.DefaultCompression)
		h := sha256.New()
		_, err := io.Copy(io.MultiWriter(zw, h), objects.ContextReader(ctx, rc))
		if err == nil {
			if got := digest.NewDigest(digest.SHA256, h); got != diffID {
				err = fmt.Errorf("its content has diff id %s, the commit says %s: %w", got, diffID, objects.ErrDigestMismatch)
			}
		}
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
