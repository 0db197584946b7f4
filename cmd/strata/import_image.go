package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/strata-sh/strata/image"
	"github.com/strata-sh/strata/internal/treepath"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/repo"
)

// importImageSource imports oci:, oci-archive: and docker-archive: sources
// as a root commit; image.ImportImage does the work and the checks.
func importImageSource(ctx context.Context, g *globals, r *repo.Repo, src string, meta importMeta) (*objects.Commit, error) {
	from, err := treeImageSource(src)
	if err != nil {
		return nil, err
	}
	return image.ImportImage(ctx, r.Objects, from, image.ImportOptions{
		Author: meta.Author, Message: meta.Message, Date: meta.Date,
		Warn: func(msg string) { fmt.Fprintf(g.stderr, "strata: warning: import %s: %s\n", escapeControls(src), msg) },
	})
}

// treeImageSource is src with its path, when that is in a work tree, where
// the tree's links lead as its container sees them (treepath.Path): a layout
// the container wrote as a link to the host's images is not imported.
func treeImageSource(src string) (string, error) {
	for _, prefix := range []string{"oci:", "oci-archive:", "docker-archive:"} {
		rest, ok := strings.CutPrefix(src, prefix)
		if !ok {
			continue
		}
		p, tag := image.SplitPathTag(rest)
		real, inTree, err := treepath.Path(p, true)
		if err != nil || !inTree {
			return src, err
		}
		if tag != "" {
			real += ":" + tag
		}
		return prefix + real, nil
	}
	return src, nil
}
