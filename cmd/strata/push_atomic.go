//go:build !strata_front

package main

import (
	"context"
	"fmt"

	"github.com/strata-sh/strata/remote"
	"github.com/strata-sh/strata/repo"
)

// atomicCheck is push --atomic's all or nothing, as far as a registry
// allows: every ref is checked against the remote's tags (lease, fast-
// forward) before any is sent, and when one would be refused none is
// sent: as git's, that one says why and the others "(atomic push
// failed)", exit 1. A registry has no transaction to move several tags
// in: a ref another pusher moves between the check and the send can
// still fail alone, after the ones before it went.
func atomicCheck(ctx context.Context, g *globals, r *repo.Repo, s *remote.Session, remoteArg string, specs []pushSpec, o pushFlags) error {
	at, err := remoteTags(ctx, s, remoteArg)
	if err != nil {
		return err
	}
	verdicts := make([]pushVerdict, len(specs))
	var first *pushVerdict
	var firstSpec pushSpec
	for i, spec := range specs {
		if verdicts[i], err = checkPush(r, remoteArg, at, spec, o); err != nil {
			return err
		}
		if verdicts[i].refused != "" && first == nil {
			first, firstSpec = &verdicts[i], spec
		}
	}
	if first == nil {
		return nil
	}
	pp := newPushPorcelain(g, o.porcelain, s.Endpoint().String(), o.quiet)
	report := pushReport{w: pp.human(g), to: s.Endpoint().String(), quiet: o.quiet}
	for i, spec := range specs {
		why := verdicts[i].refused
		if why == "" {
			why = "atomic push failed"
		}
		report.refused(pushLine(" ! [rejected]", spec.display()+" -> "+spec.dest()) + " (" + why + ")")
		pp.ref(" ! [rejected]", spec.porcelainSrc(), spec.porcelainDst(), why)
	}
	failed := fmt.Errorf("push %s: atomic push failed for ref %s: nothing was sent: %w", remoteArg, firstSpec.porcelainDst(), first.err)
	report.finish(failed)
	pp.finish()
	return failed
}
