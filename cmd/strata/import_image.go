package main

import (
	"context"
	"errors"

	"github.com/strata-sh/strata/internal/repo"
	"github.com/strata-sh/strata/objects"
)

// importImageSource imports oci: and docker-archive: sources. The remote
// package provides the implementation.
func importImageSource(ctx context.Context, g *globals, r *repo.Repo, src string, meta importMeta) (*objects.Commit, error) {
	return nil, errors.New("image sources are not supported yet")
}
