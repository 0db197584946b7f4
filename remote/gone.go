package remote

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// A registry that garbage-collected an ancestor's manifest loses the
// blobs only it named, but a history bundle written before still holds
// the manifest (bundles are read instead of asking for each manifest).
// Fetch then meets a blob the registry no longer has; where every commit
// that names it is gone from the registry too, the history stops there,
// as it does where a manifest is missing (docs/format.md, "History
// bundles"): the commits below are left out and the ones above marked
// shallow. A blob missing under a manifest the registry still has is an
// error: the registry lost part of a live commit.

// blobGoneError: the registry answered "not found" for a blob.
type blobGoneError struct {
	d   digest.Digest
	err error
}

func (e *blobGoneError) Error() string {
	return fmt.Sprintf("receive blob %s: %v", short(e.d), e.err)
}

func (e *blobGoneError) Unwrap() error { return e.err }

// goneOr wraps the error of asking for blob d.
func goneOr(d digest.Digest, err error) error {
	if errors.Is(err, ErrNotFound) {
		return &blobGoneError{d: d, err: err}
	}
	return fmt.Errorf("receive blob %s: %w", short(d), err)
}

// cutWhereGone answers err, an error of receiving the blobs of chains
// (children before parents): if it is a blob whose commits are all gone
// from the registry, it returns chains without them and what only they
// lead to, their children marked shallow; otherwise err.
func (s *Session) cutWhereGone(ctx context.Context, chains []*incoming, err error) ([]*incoming, error) {
	var gone *blobGoneError
	if !errors.As(err, &gone) {
		return nil, err
	}
	users := map[digest.Digest]bool{}
	for _, in := range chains {
		for _, d := range append([]ocispec.Descriptor{in.config}, in.layerList()...) {
			if d.Digest == gone.d {
				users[in.id] = true
			}
		}
	}
	if len(users) == 0 {
		return nil, err
	}
	for d := range users {
		if s.hasManifest(ctx, d) {
			return nil, fmt.Errorf("commit %s: %w", short(d), err)
		}
	}
	// What stays: the commits reachable from the heads (those no commit
	// of chains names as a parent) without passing through a gone one.
	byID := make(map[digest.Digest]*incoming, len(chains))
	child := map[digest.Digest]bool{}
	for _, in := range chains {
		byID[in.id] = in
		for _, p := range parentsOfIncoming(in) {
			child[p] = true
		}
	}
	keep := map[digest.Digest]bool{}
	var queue []*incoming
	for _, in := range chains {
		if !child[in.id] && !users[in.id] {
			keep[in.id] = true
			queue = append(queue, in)
		}
	}
	for len(queue) > 0 {
		in := queue[0]
		queue = queue[1:]
		for _, p := range parentsOfIncoming(in) {
			if users[p] {
				if !in.shallow {
					slog.Info("fetch: history is shallow", "commit", in.id, "parent gone from the registry", p)
				}
				in.shallow = true
				continue
			}
			if pin := byID[p]; pin != nil && !keep[p] {
				keep[p] = true
				queue = append(queue, pin)
			}
		}
	}
	out := chains[:0:0]
	for _, in := range chains {
		if keep[in.id] {
			out = append(out, in)
		}
	}
	if len(out) == len(chains) {
		return nil, err // nothing cut: no progress
	}
	return out, nil
}
