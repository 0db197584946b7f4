package remote

import (
	"context"
	"fmt"
	"sort"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/refs"
)

// RemoteTag is a tag of the remote and the manifest it names.
type RemoteTag struct {
	Name   string
	Digest digest.Digest
}

// Tags lists the remote's tags that fetch would store as remote-tracking
// branches (not strata's ancestor lists, nor names a ref cannot have),
// sorted, each with the digest it names: remote show.
func (s *Session) Tags(ctx context.Context) ([]RemoteTag, error) {
	all, err := s.t.tags(ctx)
	if err != nil {
		return nil, fmt.Errorf("list tags: %w", err)
	}
	sort.Strings(all)
	var out []RemoteTag
	for _, tag := range all {
		if isAncestorsTag(tag) || refs.CheckRemoteName(tag) != nil {
			continue
		}
		d, err := s.t.headManifest(ctx, tag)
		if err != nil {
			return nil, fmt.Errorf("tag %s: %w", tag, err)
		}
		out = append(out, RemoteTag{Name: tag, Digest: d.Digest})
	}
	return out, nil
}
