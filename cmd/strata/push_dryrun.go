//go:build !strata_front

package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/remote"
	"github.com/strata-sh/strata/repo"
)

// dryRunPush is push -n (--dry-run), as git's: it reads the remote's
// tags (none for a directory remote the push would make) and says what
// a push of specs would do, in push's lines, and sends nothing, moves
// no ref and writes no config. A push git would
// refuse is refused the same ("non-fast-forward", or "fetch first" when
// the remote's commit is not here to compare), exit 1.
func dryRunPush(ctx context.Context, g *globals, r *repo.Repo, s *remote.Session, remoteArg string, specs []pushSpec, o pushFlags) error {
	tags, err := s.Tags(ctx)
	if errors.Is(err, remote.ErrNoDirectory) {
		err = nil // the push makes it: every tag is new there
	}
	if err != nil {
		return fmt.Errorf("push %s: %w", remoteArg, err)
	}
	at := map[string]digest.Digest{}
	for _, t := range tags {
		at[t.Name] = t.Digest
	}
	pp := newPushPorcelain(g, o.porcelain, s.Endpoint().String(), o.quiet)
	report := pushReport{w: pp.human(g), to: s.Endpoint().String(), quiet: o.quiet}
	var failed error
	for _, spec := range specs {
		new := spec.commit
		if new == "" {
			if new, err = r.Refs.Read(spec.ref); err != nil {
				return fmt.Errorf("push %s %s: %w", remoteArg, spec.display(), err)
			}
		}
		old, force := at[spec.dest()], o.force || spec.force
		forced := false
		lease, err := leaseFor(r, remoteArg, o.leases, spec)
		if err != nil {
			return fmt.Errorf("push %s: %w", remoteArg, err)
		}
		if lease != nil && old != new {
			if old != *lease {
				report.refused(pushLine(" ! [rejected]", spec.display()+" -> "+spec.dest()) + " (stale info)")
				pp.ref(" ! [rejected]", spec.porcelainSrc(), spec.porcelainDst(), "stale info")
				failed = fmt.Errorf("push %s %s: rejected (stale info): remote tag %s is not where the lease expects it", remoteArg, spec.display(), spec.dest())
				continue
			}
			force = true
		}
		if old != "" && old != new {
			ff := r.Objects.Has(old)
			if ff {
				if ff, err = repo.IsAncestor(r.Objects, old, new); err != nil {
					return fmt.Errorf("push %s %s: %w", remoteArg, spec.display(), err)
				}
			}
			why := rejectedWhy(r, old)
			if !ff && !force {
				report.refused(pushLine(" ! [rejected]", spec.display()+" -> "+spec.dest()) + " (" + why + ")")
				pp.ref(" ! [rejected]", spec.porcelainSrc(), spec.porcelainDst(), why)
				failed = fmt.Errorf("push %s %s: rejected (%s): remote tag %s is at %s; fetch and integrate it first, or push --force", remoteArg, spec.display(), why, spec.dest(), shortID(old))
				continue
			}
			forced = !ff
		}
		kind := "branch"
		if spec.tag() {
			kind = "tag"
		}
		line := pushLine(refChange(old, new, forced, kind), spec.display()+" -> "+spec.dest())
		if forced {
			line += " (forced update)"
		}
		report.ref(line, old == new)
		pp.ref(refChange(old, new, forced, kind), spec.porcelainSrc(), spec.porcelainDst(), forcedReason(forced))
	}
	report.finish(failed)
	pp.finish()
	return failed
}
