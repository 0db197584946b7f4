package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/strata-sh/strata/image"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/repo"
)

// importImageSource imports oci:, oci-archive: and docker-archive: sources
// as a root commit; image.ImportImage does the work and the checks.
func importImageSource(ctx context.Context, g *globals, r *repo.Repo, src string, meta importMeta) (*objects.Commit, error) {
	from, pp, err := treeImageSource(src)
	if err != nil {
		return nil, err
	}
	defer pp.close()
	c, err := image.ImportImage(ctx, r.Objects, from, image.ImportOptions{
		Author: meta.Author, Message: meta.Message, Date: meta.Date,
		Warn: func(msg string) { fmt.Fprintf(g.stderr, "strata: warning: import %s: %s\n", escapeControls(src), msg) },
	})
	return c, pp.named(err)
}

// treeImageSource is src with its path, when that is in a work tree, where
// the tree's links lead as its container sees them, opened once there
// (pinTreePath): a layout the container wrote as a link to the host's
// images is not imported, nor one it swaps a link in for while the
// import reads it. pp is what it pinned: pp.close releases it, pp.named
// names it in errors as the user's path.
func treeImageSource(src string) (from string, pp pinnedPath, err error) {
	for _, prefix := range []string{"oci:", "oci-archive:", "docker-archive:"} {
		rest, ok := strings.CutPrefix(src, prefix)
		if !ok {
			continue
		}
		p, tag := image.SplitPathTag(rest)
		pp, err = pinTreePath(p)
		if err != nil || pp.open == pp.real { // in no tree: as typed
			return src, pp, err
		}
		from := prefix + pp.open
		if tag != "" {
			from += ":" + tag
		}
		return from, pp, nil
	}
	return src, pinnedPath{close: func() {}}, nil
}
