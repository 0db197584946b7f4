package checkout

import (
	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/repo"
)

func init() {
	repo.OnRoots(worktreeCommits)
	repo.OnGC(pruneSnapshots)
}

// worktreeCommits are the commits work trees stand on or are switching
// to: gc keeps them even when no ref does (a detached second work tree).
func worktreeCommits(r *repo.Repo) ([]digest.Digest, error) {
	wts, err := List(r)
	if err != nil {
		return nil, err
	}
	var out []digest.Digest
	for _, w := range wts {
		st, _, err := w.State()
		if err != nil {
			continue
		}
		for _, d := range []digest.Digest{st.Commit, st.Pending, digest.Digest(st.Head)} {
			if d.Validate() == nil {
				out = append(out, d)
			}
		}
	}
	return out, nil
}

// pruneSnapshots is gc's hook: it drops the snapshots built from layers
// gc removed (a mounted work tree's layers are kept, reachable or not) and
// the cached trees.
func pruneSnapshots(r *repo.Repo, kept map[digest.Digest]bool) error {
	inUse := map[digest.Digest]bool{}
	wts, err := List(r)
	if err != nil {
		return err
	}
	for _, w := range wts {
		st, _, err := w.State()
		if err != nil || st.Commit == "" {
			continue
		}
		if c, err := r.Objects.ReadCommit(st.Commit); err == nil {
			for _, l := range c.Manifest.Layers {
				inUse[l.Digest] = true
			}
		}
	}
	s := NewSnapshots(r.Objects)
	if err := s.Prune(func(d digest.Digest) bool { return kept[d] || inUse[d] }); err != nil {
		return err
	}
	return pruneTrees(s.dir)
}
