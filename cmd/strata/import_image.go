package main

import (
	"context"
	"fmt"

	"github.com/strata-sh/strata/image"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/repo"
)

// importImageSource imports oci:, oci-archive: and docker-archive: sources
// as a root commit; image.ImportImage does the work and the checks.
func importImageSource(ctx context.Context, g *globals, r *repo.Repo, src string, meta importMeta) (*objects.Commit, error) {
	return image.ImportImage(ctx, r.Objects, src, image.ImportOptions{
		Author: meta.Author, Message: meta.Message, Date: meta.Date,
		Warn: func(msg string) { fmt.Fprintf(g.stderr, "strata: warning: import %s: %s\n", escapeControls(src), msg) },
	})
}
