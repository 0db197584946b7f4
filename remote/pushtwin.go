package remote

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// nonFastForward is a refused push whose message says more than
// ErrNonFastForward's text (which would be wrong for it); errors.Is
// still matches ErrNonFastForward.
type nonFastForward struct{ msg string }

func (e *nonFastForward) Error() string { return e.msg }
func (e *nonFastForward) Unwrap() error { return ErrNonFastForward }

// rewrittenTwin explains a remote tag at old that is not in the history
// of what is pushed because it is one of the ref's own commits under
// another id: the commit itself when a --compression gzip push finds the
// plain one, or its gzip rewrite when a plain push finds that. local is
// the ref's commit before any rewrite, gzip whether this push rewrites.
// It returns nil when old is neither (an ordinary non-fast-forward).
func (s *Session) rewrittenTwin(ctx context.Context, r *repo.Repo, res PushResult, local digest.Digest, gzip bool) error {
	name := refs.ShortName(res.Ref)
	if gzip {
		if ok, err := repo.IsAncestor(r.Objects, res.Old, local); err == nil && ok {
			return &nonFastForward{fmt.Sprintf("remote tag %s is at %s, which is %s as pushed without --compression; --compression gzip sends a rewritten history, whose commits have other ids: push without it to extend the remote's history, or push --force to replace that with the gzip one",
				res.Tag, short(res.Old), s.describeOwn(name, res.Old, local))}
		}
	}
	m, err := s.manifestOf(ctx, r, res.Old)
	if err != nil || m.Config.Digest == "" {
		return nil
	}
	var twin digest.Digest
	var twinLayers []ocispec.Descriptor
	repo.WalkAncestors(r.Objects, local, func(d digest.Digest) bool {
		lm, err := r.Objects.ReadManifest(d)
		if err != nil || lm.Config.Digest != m.Config.Digest {
			return true
		}
		// The same config: the same tree, message, author and date.
		twin, twinLayers = d, lm.Layers
		return false
	})
	if twin == "" || twin == res.Old {
		return nil
	}
	if !gzip && gzipOf(m.Layers, twinLayers) {
		return &nonFastForward{fmt.Sprintf("remote tag %s is at %s, which is %s as pushed with --compression gzip, a rewritten history whose commits have other ids: push with --compression gzip to extend it, or push --force to replace it with this one",
			res.Tag, short(res.Old), s.describeOwn(name, twin, local))}
	}
	return &nonFastForward{fmt.Sprintf("remote tag %s is at %s, which is a rewritten copy of %s (the same content and message under another id): push --force replaces it",
		res.Tag, short(res.Old), s.describeOwn(name, twin, local))}
}

// describeOwn names commit d of ref name's history (local its tip).
func (s *Session) describeOwn(name string, d, local digest.Digest) string {
	if d == local {
		return name
	}
	return fmt.Sprintf("commit %s of %s's history", short(d), name)
}

// manifestOf reads manifest d from the store, else from the remote.
func (s *Session) manifestOf(ctx context.Context, r *repo.Repo, d digest.Digest) (*ocispec.Manifest, error) {
	if r.Objects.Has(d) {
		return r.Objects.ReadManifest(d)
	}
	raw, desc, err := s.t.fetchManifest(ctx, d.String())
	if err != nil {
		return nil, err
	}
	if desc.Digest != d || digest.FromBytes(raw) != d {
		return nil, fmt.Errorf("manifest %s: %w", short(d), ErrBadImage)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// gzipOf says whether remote's layers are local's recompressed with gzip.
func gzipOf(remote, local []ocispec.Descriptor) bool {
	if len(remote) != len(local) {
		return false
	}
	changed := false
	for i := range remote {
		if remote[i].Digest == local[i].Digest {
			continue
		}
		if remote[i].MediaType != ocispec.MediaTypeImageLayerGzip || local[i].MediaType != ocispec.MediaTypeImageLayerZstd {
			return false
		}
		changed = true
	}
	return changed
}
