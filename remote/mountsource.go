package remote

import (
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// Which repository a blob is mounted from. docker-registry mounts a blob
// only from a repository that holds it; asked to mount from one that does
// not, it starts an ordinary upload and the blob is sent and hashed again
// (about 35 times a mount's CPU for an 80 MB layer). A push therefore asks
// the repository its remote-tracking refs say holds the blob, and only
// when none does, the first other remote of the registry (a guess).

// mountHolders maps a blob to a repository of this registry that holds
// it, as far as the other remotes' remote-tracking refs tell.
type mountHolders map[digest.Digest]name.Repository

// holders reads the manifest of each remote-tracking ref of the other
// remotes of this registry: a commit's manifest lists every layer below
// it, so the tips name the layers of their histories, and their configs.
// Refs that cannot be read are passed over: this is a hint, and a wrong
// one costs an upload, not a failure.
func (s *Session) holders(r *repo.Repo) mountHolders {
	h := mountHolders{}
	rt, ok := s.t.(*registryTarget)
	if !ok {
		return h
	}
	for i, rem := range s.mountRemotes {
		from := *s.mountFrom[i].Repo
		if !rt.mountable(from) || rem.Name == "" {
			continue
		}
		vals := rem.Fetch
		if len(vals) == 0 {
			vals = []string{refs.DefaultFetch(rem.Name)}
		}
		specs, err := refs.ParseRefspecs(vals)
		if err != nil {
			continue
		}
		tracked, err := TrackingRefs(r, specs)
		if err != nil {
			continue
		}
		for _, t := range tracked {
			m, err := r.Objects.ReadManifest(t.Target)
			if err != nil {
				continue
			}
			h.add(m.Config.Digest, from)
			for _, l := range m.Layers {
				h.add(l.Digest, from)
			}
		}
	}
	return h
}

// add records that from holds d, unless an earlier remote does.
func (h mountHolders) add(d digest.Digest, from name.Repository) {
	if _, ok := h[d]; !ok {
		h[d] = from
	}
}

// mountOrder is the repositories to mount blob d from, the one known to
// hold it (or the one known to hold like, the commit's own layer, for
// its config) first, then the other remotes in their order.
func (h mountHolders) mountOrder(all []name.Repository, d, like digest.Digest) []name.Repository {
	first, ok := h[d]
	if !ok && like != "" {
		first, ok = h[like]
	}
	if !ok {
		return all
	}
	out := []name.Repository{first}
	for _, r := range all {
		if r.String() != first.String() {
			out = append(out, r)
		}
	}
	return out
}
