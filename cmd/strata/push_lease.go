//go:build !strata_front

package main

import (
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// leaseAll is --force-with-lease with no value: every ref pushed, each
// against its remote-tracking ref.
const leaseAll = "*"

// leaseFor is git's --force-with-lease for spec, pushed to remoteName: the
// commit its remote tag must be at ("": it must not exist), or nil when no
// lease names it. Each lease is REF (against REF's remote-tracking ref),
// REF:EXPECT (against the revision EXPECT; "REF:" for none), or leaseAll.
func leaseFor(r *repo.Repo, remoteName string, leases []string, spec pushSpec) (*digest.Digest, error) {
	dest := spec.dest()
	for _, l := range leases {
		ref, expect, hasExpect := strings.Cut(l, ":")
		if l != leaseAll && ref != dest && ref != refs.Heads+dest && ref != refs.Tags+dest {
			continue
		}
		var want digest.Digest
		switch {
		case hasExpect && expect != "":
			c, err := r.Resolve(expect)
			if err != nil {
				return nil, fmt.Errorf("--force-with-lease=%s: %w", l, err)
			}
			want = c.ID
		case !hasExpect:
			var err error
			if want, err = trackedTip(r, remoteName, dest, spec.tag()); err != nil {
				return nil, fmt.Errorf("--force-with-lease: %w", err)
			}
		}
		return &want, nil
	}
	return nil, nil
}

// trackedTip is where remoteName's remote-tracking ref of its tag is:
// "" when it keeps none (a URL, a tag no refspec maps) or has none yet,
// which a lease then takes as "the remote has no such tag", as git's.
func trackedTip(r *repo.Repo, remoteName, tag string, isTag bool) (digest.Digest, error) {
	if !r.Config.HasSubsection("remote", remoteName) {
		return "", nil
	}
	specs, err := r.FetchRefspecs(remoteName)
	if err != nil {
		return "", err
	}
	ref := refs.Tracking(specs, tag, !isTag)
	if ref == "" || !r.Refs.Exists(ref) {
		return "", nil
	}
	return r.Refs.Read(ref)
}
