//go:build !strata_front

package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/remote"
	"github.com/strata-sh/strata/repo"
)

// pushDelete is push --delete REMOTE NAME...: each remote tag goes, then
// its remote-tracking ref. As git's, a name the remote has not stops the
// push before anything is deleted; a deletion the remote refuses does
// not stop the others, unless --atomic: then every deletion is checked
// before any is made, and none is made when one would be refused.
func pushDelete(cmd *cobra.Command, g *globals, r *repo.Repo, rem remote.Remote, remoteArg string, names []string, o pushFlags) error {
	if len(names) == 0 {
		return usagef("push --delete: name the branches or tags to delete")
	}
	if o.all || o.tags {
		return usagef("push --delete: takes names, not --all or --tags")
	}
	s, _, err := connect(g, r, rem, o.transferFlags, "send")
	if err != nil {
		return fmt.Errorf("push %s: %w", remoteArg, err)
	}
	tags := make([]string, len(names))
	for i, n := range names {
		if tags[i] = refs.ShortName(n); tags[i] == "" {
			tags[i] = n
		}
	}
	have, err := s.Tags(cmd.Context())
	if err != nil {
		return fmt.Errorf("push --delete %s: %w", remoteArg, err)
	}
	if err := checkRemoteHas(have, remoteArg, tags); err != nil {
		return err
	}
	atomic := o.atomic && len(tags) > 1 && !o.dryRun
	refused, why := -1, error(nil)
	if atomic {
		if refused, why, err = checkDeletes(cmd.Context(), r, s, tags); err != nil {
			return fmt.Errorf("push --delete %s: %w", remoteArg, err)
		}
	}
	// As git's, "To URL" comes with the first ref's line, once the
	// remote has answered.
	pp := newPushPorcelain(g, o.porcelain, s.Endpoint().String(), o.quiet)
	report := &pushReport{w: pp.human(g), to: s.Endpoint().String(), quiet: o.quiet}
	var failed error
	for i, tag := range tags {
		dst := porcelainDeleted(r, names[i], tag)
		if o.dryRun {
			report.ref(pushLine(" - [deleted]", tag), false)
			pp.ref(" - [deleted]", "", dst, "")
			continue
		}
		var err error
		switch {
		case i == refused:
			err = why
		case atomic && (refused >= 0 || failed != nil):
			// As git's remote, for every ref of an atomic push but the
			// one it refused.
			report.refused(pushLine(" ! [remote rejected]", tag) + " (atomic push failure)")
			pp.ref(" ! [remote rejected]", "", dst, "atomic push failure")
			continue
		default:
			_, err = s.Delete(cmd.Context(), r, tag)
		}
		if err != nil {
			report.refused(pushLine(" ! [remote rejected]", tag) + " (delete refused)")
			pp.ref(" ! [remote rejected]", "", dst, "delete refused")
			failed = fmt.Errorf("push --delete %s %s: %w", remoteArg, tag, err)
			switch {
			case i == refused:
				failed = fmt.Errorf("push --delete %s: atomic push failed for ref %s: nothing was deleted: %w", remoteArg, dst, err)
			case atomic:
				// Refused only when asked: the ones before are gone.
				failed = fmt.Errorf("push --delete %s: atomic push failed for ref %s: it and the ones after it were not deleted: %w", remoteArg, dst, err)
			}
			continue
		}
		report.ref(pushLine(" - [deleted]", tag), false)
		pp.ref(" - [deleted]", "", dst, "")
	}
	pp.finish()
	return failed
}

// checkDeletes is push --atomic --delete's all or nothing, as far as a
// registry allows: every tag is checked as a deletion checks it (another
// tag's commit would go with it) before any is deleted. It returns the
// index of the first tag a deletion would refuse and why, or -1. A
// registry has no transactions: a deletion it refuses only when asked
// (no storage.delete.enabled) stops the push there, after the ones
// before.
func checkDeletes(ctx context.Context, r *repo.Repo, s *remote.Session, tags []string) (int, error, error) {
	for i, tag := range tags {
		err := s.CheckDelete(ctx, r, tag)
		switch {
		case errors.Is(err, remote.ErrDeleteRefused):
			return i, err, nil
		case err != nil:
			return -1, nil, err
		}
	}
	return -1, nil, nil
}

// checkRemoteHas is git's refusal to delete refs the remote has not,
// naming every one of them.
func checkRemoteHas(have []remote.RemoteTag, remoteArg string, tags []string) error {
	var missing, quoted []string
	for _, tag := range tags {
		if !slices.ContainsFunc(have, func(t remote.RemoteTag) bool { return t.Name == tag }) {
			missing = append(missing, tag)
			quoted = append(quoted, "'"+tag+"'")
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("push --delete %s %s: unable to delete %s: remote ref does not exist",
		remoteArg, strings.Join(missing, " "), strings.Join(quoted, ", "))
}
