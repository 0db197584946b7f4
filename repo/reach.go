package repo

import (
	"errors"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/objects"
)

// Roots are the commits that keep content alive: every ref, HEAD, every
// commit a reflog mentions, and those more names.
func (r *Repo) Roots(more ...RootSource) ([]digest.Digest, error) {
	all, broken, err := r.Refs.ListAll("refs/")
	if err != nil {
		return nil, err
	}
	if err := refuseBrokenRefs(broken); err != nil {
		return nil, err
	}
	var out []digest.Digest
	for _, ref := range all {
		out = append(out, ref.Target)
	}
	if h, err := r.Refs.ReadHead(); err == nil && h.Commit != "" {
		out = append(out, h.Commit)
	}
	logged, err := r.Refs.ReflogCommits()
	if err != nil {
		return nil, err
	}
	out = append(out, logged...)
	for _, f := range more {
		more, err := f(r)
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
	}
	return out, nil
}

// Reachable returns every blob reachable from roots: commits, their
// configs and layers, following both parents of a merge until the history ends or an
// ancestor is missing (a shallow history).
func (r *Repo) Reachable(roots []digest.Digest) (map[digest.Digest]bool, error) {
	keep := map[digest.Digest]bool{}
	stack := append([]digest.Digest(nil), roots...)
	for len(stack) > 0 {
		d := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if keep[d] {
			continue
		}
		m, err := r.Objects.ReadManifest(d)
		if errors.Is(err, objects.ErrNotFound) {
			continue // never fetched, or already reported by fsck
		}
		if err != nil {
			return nil, err
		}
		keep[d] = true
		keep[m.Config.Digest] = true
		for _, l := range m.Layers {
			keep[l.Digest] = true
		}
		// Both parents: a blob only a merge's second parent reaches lives.
		for _, a := range []string{objects.AnnotationParent, objects.AnnotationMergeParent} {
			if p := digest.Digest(m.Annotations[a]); p != "" {
				stack = append(stack, p)
			}
		}
	}
	return keep, nil
}

// missingReflogs names the reflogs with an entry whose commit Reachable
// could not read (keep lacks it): gc keeps nothing of such a commit.
func (r *Repo) missingReflogs(keep map[digest.Digest]bool) ([]string, error) {
	names, err := r.Refs.LogNames()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, name := range names {
		entries, err := r.Refs.Log(name)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if e.New != "" && !keep[e.New] || e.Old != "" && !keep[e.Old] {
				out = append(out, name)
				break
			}
		}
	}
	return out, nil
}
