package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/image"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/repo"
)

// plan reads the manifests of tag's history that the store lacks and
// returns the tip's commit id and them, newest line first. The
// history is walked a line at a time along first parents: the tip's
// line, then a line from each new merge's second parent. Where the
// remote has an ancestor list for a line's first commit, the manifests it
// names are fetched in parallel and checked against both parents as the
// line is walked; elsewhere each parent is one request.
func (s *Session) plan(ctx context.Context, r *repo.Repo, tag string, have map[digest.Digest]bool) (digest.Digest, []*incoming, error) {
	raw, desc, err := s.t.fetchManifest(ctx, tag)
	if errors.Is(err, ErrNotFound) {
		return "", nil, noTagError{tag, s.t.String()}
	}
	if err != nil {
		return "", nil, err
	}
	raw, desc, err = s.pickImage(ctx, raw, desc)
	if err != nil {
		return "", nil, err
	}
	in, err := s.toPlanned(raw, desc)
	if err != nil {
		return "", nil, err
	}
	tip := in.id
	known := func(d digest.Digest) bool { return have[d] || s.complete(r.Objects, d) }
	var all []*incoming
	queued := map[digest.Digest]bool{tip: true}
	heads := []*incoming{in}
	for len(heads) > 0 {
		in, heads = heads[0], heads[1:]
		if known(in.id) {
			continue
		}
		line, err := s.planLine(ctx, r.Objects, in, known, have)
		if err != nil {
			return "", nil, err
		}
		all = append(all, line...)
		for _, c := range line {
			mp := digest.Digest(c.annotations[objects.AnnotationMergeParent])
			if mp == "" || known(mp) || queued[mp] {
				continue
			}
			raw, desc, err := s.t.fetchManifest(ctx, mp.String())
			if errors.Is(err, ErrNotFound) {
				slog.Info("fetch: history is shallow", "commit", c.id, "missing merge parent", mp)
				c.shallow = true
				continue
			}
			if err != nil {
				return "", nil, fmt.Errorf("commit %s: %w", short(mp), err)
			}
			head, err := s.toPlanned(raw, desc)
			if err != nil {
				return "", nil, err
			}
			if head.id != mp {
				return "", nil, fmt.Errorf("commit %s: the registry sent %s: %w", short(mp), short(head.id), ErrBadImage)
			}
			queued[mp] = true
			heads = append(heads, head)
		}
	}
	return tip, all, nil
}

// shortMerge names a merge's second parent, "nothing" for a commit that
// is no merge.
func shortMerge(d digest.Digest) string {
	if d == "" {
		return "nothing"
	}
	return short(d)
}

// planLine walks one line of history from in along first parents, newest
// first, to the root or a commit the store has, through the line's
// ancestor list where the remote has one.
func (s *Session) planLine(ctx context.Context, st *objects.Store, in *incoming, known func(digest.Digest) bool, have map[digest.Digest]bool) ([]*incoming, error) {
	var chain, listed []*incoming
	var list *ancestorList // whose entries listed are
	listAt := in.id        // where the next list is looked up
	for !known(in.id) {
		have[in.id] = true
		chain = append(chain, in)
		if list != nil {
			if want, got := list.mergeParentOf(in.id), digest.Digest(in.annotations[objects.AnnotationMergeParent]); want != got {
				return nil, fmt.Errorf("the ancestor list of %s says %s merged %s where its manifest says %s: %w; nothing was fetched", short(list.Commit), short(in.id), shortMerge(want), shortMerge(got), ErrBadAncestors)
			}
		}
		parent := digest.Digest(in.annotations[objects.AnnotationParent])
		if parent == "" || known(parent) {
			break
		}
		if len(listed) == 0 && in.id == listAt {
			listAt = ""
			if l := s.readAncestors(ctx, in.id); l != nil {
				var err error
				if listed, err = s.fetchListed(ctx, st, in, l, known); err != nil {
					return nil, err
				}
				if want, got := l.mergeParentOf(in.id), digest.Digest(in.annotations[objects.AnnotationMergeParent]); want != got {
					return nil, fmt.Errorf("the ancestor list of %s says it merged %s where its manifest says %s: %w; nothing was fetched", short(in.id), shortMerge(want), shortMerge(got), ErrBadAncestors)
				}
				list = l
				if l.Continued && len(listed) == len(l.Ancestors) && len(listed) > 0 {
					listAt = listed[len(listed)-1].id
				}
			}
		}
		if len(listed) > 0 {
			next := listed[0]
			listed = listed[1:]
			if next.id != parent {
				return nil, lyingList(list.Commit, next.id, parent)
			}
			in = next
			continue
		}
		list = nil
		raw, desc, err := s.t.fetchManifest(ctx, parent.String())
		if errors.Is(err, ErrNotFound) {
			slog.Info("fetch: history is shallow", "commit", in.id, "missing parent", parent)
			in.shallow = true
			break
		}
		if err != nil {
			return nil, fmt.Errorf("commit %s: %w", short(parent), err)
		}
		if in, err = s.toPlanned(raw, desc); err != nil {
			return nil, err
		}
		if in.id != parent {
			return nil, fmt.Errorf("commit %s: the remote sent %s for it: %w", short(parent), short(in.id), image.ErrBadImage)
		}
	}
	if len(listed) > 0 {
		// Entries past the root or past a commit the store has.
		return nil, fmt.Errorf("the ancestor list of %s names %s past where the history ends: %w; nothing was fetched", short(list.Commit), short(listed[0].id), ErrBadAncestors)
	}
	return chain, nil
}

// complete reports whether the store has commit d; a commit's manifest is
// only ever written after its blobs.
func (s *Session) complete(st *objects.Store, d digest.Digest) bool {
	_, err := st.ReadManifest(d)
	return err == nil
}

// pickImage resolves an index to the manifest for this machine's platform.
func (s *Session) pickImage(ctx context.Context, raw []byte, desc ocispec.Descriptor) ([]byte, ocispec.Descriptor, error) {
	if !image.IsIndex(desc.MediaType) {
		return raw, desc, nil
	}
	var idx ocispec.Index
	if err := json.Unmarshal(raw, &idx); err != nil {
		return nil, desc, fmt.Errorf("index %s: %w: %v", short(desc.Digest), ErrBadImage, err)
	}
	m, err := image.PickPlatform(&idx)
	if err != nil {
		return nil, desc, fmt.Errorf("index %s: %w", short(desc.Digest), err)
	}
	return s.t.fetchManifest(ctx, m.Digest.String())
}

// noTagError: a tag the remote does not have.
type noTagError struct{ tag, remote string }

func (e noTagError) Error() string {
	if digest.Digest(e.tag).Validate() == nil {
		return fmt.Sprintf("no image %s in %s", e.tag, e.remote)
	}
	return fmt.Sprintf("no tag %q in %s", e.tag, e.remote)
}
func (e noTagError) Unwrap() error { return ErrNotFound }
