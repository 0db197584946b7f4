package remote

import (
	"context"
	"errors"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/repo"
)

func convertHistoryGzip(ctx context.Context, r *repo.Repo, tip digest.Digest) (digest.Digest, error) {
	return "", errors.New("--compression gzip: not implemented yet")
}
