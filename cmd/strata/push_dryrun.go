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
	at, err := remoteTags(ctx, s, remoteArg)
	if err != nil {
		return err
	}
	pp := newPushPorcelain(g, o.porcelain, s.Endpoint().String(), o.quiet)
	report := pushReport{w: pp.human(g), to: s.Endpoint().String(), quiet: o.quiet}
	var failed error
	for _, spec := range specs {
		v, err := checkPush(r, remoteArg, at, spec, o)
		if err != nil {
			return err
		}
		if v.refused != "" {
			report.refused(pushLine(" ! [rejected]", spec.display()+" -> "+spec.dest()) + " (" + v.refused + ")")
			pp.ref(" ! [rejected]", spec.porcelainSrc(), spec.porcelainDst(), v.refused)
			failed = v.err
			continue
		}
		kind := "branch"
		if spec.tag() {
			kind = "tag"
		}
		line := pushLine(refChange(v.old, v.new, v.forced, kind), spec.display()+" -> "+spec.dest())
		if v.forced {
			line += " (forced update)"
		}
		report.ref(line, v.old == v.new)
		pp.ref(refChange(v.old, v.new, v.forced, kind), spec.porcelainSrc(), spec.porcelainDst(), forcedReason(v.forced))
	}
	report.finish(failed)
	pp.finish()
	return failed
}

// remoteTags is the remote's tags and the commits they name; none for
// a directory remote the push would make.
func remoteTags(ctx context.Context, s *remote.Session, remoteArg string) (map[string]digest.Digest, error) {
	tags, err := s.Tags(ctx)
	if errors.Is(err, remote.ErrNoDirectory) {
		err = nil // the push makes it: every tag is new there
	}
	if err != nil {
		return nil, fmt.Errorf("push %s: %w", remoteArg, err)
	}
	at := map[string]digest.Digest{}
	for _, t := range tags {
		at[t.Name] = t.Digest
	}
	return at, nil
}

// pushVerdict is what a push of one ref would do, as push decides it
// before it sends: the remote tag from old to new, forced or not, or
// refused (git's reason, "stale info", "non-fast-forward" or "fetch
// first", and the error that says it).
type pushVerdict struct {
	old, new digest.Digest
	forced   bool
	refused  string
	err      error
}

// checkPush is the verdict on a push of spec to the remote whose tags
// are at.
func checkPush(r *repo.Repo, remoteArg string, at map[string]digest.Digest, spec pushSpec, o pushFlags) (pushVerdict, error) {
	v := pushVerdict{new: spec.commit}
	if v.new == "" {
		var err error
		if v.new, err = r.Refs.Read(spec.ref); err != nil {
			return v, fmt.Errorf("push %s %s: %w", remoteArg, spec.display(), err)
		}
	}
	v.old = at[spec.dest()]
	force := o.force || spec.force
	lease, err := leaseFor(r, remoteArg, o.leases, spec)
	if err != nil {
		return v, fmt.Errorf("push %s: %w", remoteArg, err)
	}
	if lease != nil && v.old != v.new {
		if v.old != *lease {
			v.refused = "stale info"
			v.err = fmt.Errorf("push %s %s: rejected (stale info): remote tag %s is not where the lease expects it", remoteArg, spec.display(), spec.dest())
			return v, nil
		}
		force = true
	}
	if v.old == "" || v.old == v.new {
		return v, nil
	}
	ff := r.Objects.Has(v.old)
	if ff {
		if ff, err = repo.IsAncestor(r.Objects, v.old, v.new); err != nil {
			return v, fmt.Errorf("push %s %s: %w", remoteArg, spec.display(), err)
		}
	}
	if !ff && !force {
		v.refused = rejectedWhy(r, v.old)
		v.err = fmt.Errorf("push %s %s: rejected (%s): remote tag %s is at %s; fetch and integrate it first, or push --force", remoteArg, spec.display(), v.refused, spec.dest(), shortID(v.old))
		return v, nil
	}
	v.forced = !ff
	return v, nil
}
