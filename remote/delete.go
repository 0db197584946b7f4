package remote

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// ErrDeleteRefused: a remote tag is not deleted because that would take
// another tag's commit, or part of its history, with it.
var ErrDeleteRefused = errors.New("deleting it would remove another tag's commit")

// Delete removes tag from the remote (push --delete) and then its
// remote-tracking ref; it returns the commit the tag named.
//
// A layout directory drops the tag from index.json. A registry is asked to
// delete the tag's manifest by digest, the only deletion docker-registry
// 2.8 offers (and only with storage.delete.enabled): that removes every
// tag naming the manifest, so Delete first refuses when another tag names
// the same commit or a commit whose history contains it, as far as the
// local store can tell (an unknown commit counts as containing it).
// The tag's commit's ancestor list goes with it. Blobs and ancestors'
// manifests stay until the registry's own gc.
func (s *Session) Delete(ctx context.Context, r *repo.Repo, tag string) (digest.Digest, error) {
	desc, err := s.deletable(ctx, r, tag)
	if err != nil {
		return desc.Digest, err
	}
	switch t := s.t.(type) {
	case *layoutTarget:
		err = t.deleteTag(tag)
	case *registryTarget:
		if err = t.deleteManifest(ctx, desc.Digest); err == nil {
			t.deleteAncestors(ctx, desc.Digest)
		}
	}
	if err != nil {
		return desc.Digest, fmt.Errorf("tag %s: %w", tag, err)
	}
	if name := s.trackingRef(tag, true); name != "" && r.Refs.Exists(name) {
		if err := r.Refs.Delete(name, refs.Any, "push: deleted"); err != nil {
			return desc.Digest, err
		}
	}
	return desc.Digest, nil
}

// CheckDelete refuses, without deleting anything, what Delete would
// refuse before deleting: a tag the remote has not, one whose deletion
// would take another tag's commit with it (ErrDeleteRefused), a remote
// that cannot delete. push --atomic --delete checks every tag so before
// deleting any. The registry can still refuse the deletion itself (no
// storage.delete.enabled), and a tag pushed meanwhile is not seen.
func (s *Session) CheckDelete(ctx context.Context, r *repo.Repo, tag string) error {
	_, err := s.deletable(ctx, r, tag)
	return err
}

// deletable is Delete's checks: the manifest tag names, or why it is
// not to be deleted.
func (s *Session) deletable(ctx context.Context, r *repo.Repo, tag string) (ocispec.Descriptor, error) {
	if err := refs.CheckRemoteName(tag); err != nil {
		return ocispec.Descriptor{}, err
	}
	desc, err := s.t.headManifest(ctx, tag)
	if err != nil {
		return desc, fmt.Errorf("tag %s: %w", tag, err)
	}
	switch s.t.(type) {
	case *layoutTarget:
	case *registryTarget:
		err = s.checkSharing(ctx, r, tag, desc.Digest)
	default:
		err = fmt.Errorf("%s: cannot delete tags", s.t)
	}
	if err != nil {
		return desc, fmt.Errorf("tag %s: %w", tag, err)
	}
	return desc, nil
}

// checkSharing refuses a registry deletion of d that would take another
// tag, or history another tag stands on, with it.
func (s *Session) checkSharing(ctx context.Context, r *repo.Repo, tag string, d digest.Digest) error {
	all, err := s.t.tags(ctx)
	if err != nil {
		return err
	}
	for _, other := range all {
		if other == tag || isAncestorsTag(other) {
			continue
		}
		od, err := s.t.headManifest(ctx, other)
		if err != nil {
			continue // gone meanwhile
		}
		if od.Digest == d {
			return fmt.Errorf("%w: tag %s names the same commit %s, and the registry deletes manifests by digest, which removes both", ErrDeleteRefused, other, short(d))
		}
		if !r.Objects.Has(od.Digest) {
			return fmt.Errorf("%w: tag %s names %s, which is not here to check whether its history contains %s; run 'strata fetch' first", ErrDeleteRefused, other, short(od.Digest), short(d))
		}
		if in, err := repo.IsAncestor(r.Objects, d, od.Digest); err != nil {
			return err
		} else if in {
			return fmt.Errorf("%w: %s is in the history of tag %s", ErrDeleteRefused, short(d), other)
		}
	}
	return nil
}

func (t *registryTarget) deleteManifest(ctx context.Context, d digest.Digest) error {
	ref, err := t.ref(d.String())
	if err != nil {
		return err
	}
	err = t.pusher.Delete(ctx, ref)
	var terr *transport.Error
	if errors.As(err, &terr) && (terr.StatusCode == http.StatusMethodNotAllowed || terr.StatusCode == http.StatusNotImplemented) {
		return fmt.Errorf("the registry does not allow deleting manifests (docker-registry: set storage.delete.enabled: true): %w", err)
	}
	return wrapRegistryErr(err)
}

// deleteAncestors deletes commit d's ancestor list, once d's manifest is
// gone: only a fetch that starts at d reads it, and checkSharing made sure
// no other tag's history holds d. Other lists of its history (one per
// 1,000 commits, merges' second parents) may serve other tags and stay.
// A list left behind is harmless (fetch checks lists), so a failure here
// is not the deletion's.
func (t *registryTarget) deleteAncestors(ctx context.Context, d digest.Digest) {
	if ad, err := t.headManifest(ctx, ancestorsTag(d)); err == nil {
		_ = t.deleteManifest(ctx, ad.Digest)
	}
}

func (t *layoutTarget) deleteTag(tag string) error {
	st, err := t.store()
	if err != nil {
		return err
	}
	return t.setTag(st, tag, nil)
}

// Prune deletes the remote-tracking refs of this remote whose tags the
// remote no longer has (fetch --prune): the refs under refs/remotes/
// that its refspecs' patterns map a tag to (TrackingRefs), as git's
// prune. It returns
// the tags pruned, or with dryRun those it would prune.
func (s *Session) Prune(ctx context.Context, r *repo.Repo, dryRun bool) ([]TagUpdate, error) {
	if s.Name == "" {
		return nil, nil
	}
	all, err := s.t.tags(ctx)
	if err != nil {
		return nil, fmt.Errorf("list tags: %w", err)
	}
	there := map[string]bool{}
	for _, t := range all {
		there[t] = true
	}
	tracked, err := TrackingRefs(r, s.refmap)
	if err != nil {
		return nil, err
	}
	var out []TagUpdate
	for _, t := range tracked {
		if !t.Glob || there[t.Tag] {
			continue
		}
		if !dryRun {
			if err := r.Refs.Delete(t.Name, t.Target, "fetch: pruned"); err != nil {
				return out, err
			}
		}
		out = append(out, TagUpdate{Tag: t.Tag, Ref: t.Name, Old: t.Target})
	}
	return out, nil
}
