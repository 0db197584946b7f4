package main

import (
	"context"
	"fmt"
	"io"

	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/repo"
)

// runMergeDiff is "diff X^!" of a merge X, as git's: X against all its
// parents at once, as show shows a merge without its header: -p the
// dense combined diff, --stat and the other counts against the first
// parent, --name-status one status letter per parent; the default
// listing and --format json the paths that differ from every parent,
// with those letters ("MM /etc/motd").
func runMergeDiff(ctx context.Context, out io.Writer, r *repo.Repo, rev string, paths []string, o diffOptions) error {
	if o.format == "json" && o.numstat {
		return usagef("diff: a merge's X^! has no --numstat in JSON: --numstat prints it as text")
	}
	id, err := r.Refs.Resolve(rev, r.Objects)
	if err != nil {
		return fmt.Errorf("diff: %w", err)
	}
	c, err := r.Objects.ReadCommit(id)
	if err != nil {
		return fmt.Errorf("diff: %w", err)
	}
	under := paths
	if len(under) == 0 {
		under = []string{"/"}
	}
	changes, bad, err := showChanges(r, c, under, diffOptions{renames: o.renames, renameLimit: o.renameLimit})
	if err != nil {
		return fmt.Errorf("diff: %w", err)
	}
	switch {
	case o.quiet:
	case o.format == "json":
		if err := writeJSON(out, changes); err != nil {
			return err
		}
	case o.any():
		if err := writeMergeViews(ctx, out, r, c, paths, o, true); err != nil {
			return fmt.Errorf("diff: %w", err)
		}
	default:
		for _, ch := range changes {
			fmt.Fprintf(out, "%s %s\n", ch.Status, pathquote.Quote(ch.Path))
		}
	}
	if err := missingPaths(bad); err != nil {
		return err
	}
	if (o.exitCode || o.quiet) && len(changes) > 0 {
		return exitCodeError{code: 1}
	}
	return nil
}
