package repo

import (
	"errors"
	"fmt"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
)

// ErrNonFastForward: a branch would move to a commit that does not
// descend from it (remote returns the same value for a refused push).
var ErrNonFastForward = errors.New("remote has commits that are not in the local history")

// IsAncestor reports whether commit anc is desc or one of its ancestors in
// the local store. A history that ends (root or missing parent) before
// anc is found answers false.
func IsAncestor(s *objects.Store, anc, desc digest.Digest) (bool, error) {
	for d := desc; d != ""; {
		if d == anc {
			return true, nil
		}
		p, err := s.Parent(d)
		if errors.Is(err, objects.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		d = p
	}
	return false, nil
}

// FastForward moves branch (a short name) to commit to, which must
// descend from the branch's commit. A missing branch is created. It
// returns where the branch was ("" if new).
func (r *Repo) FastForward(branch string, to digest.Digest, msg string) (digest.Digest, error) {
	name := refs.Heads + branch
	old, err := r.Refs.Read(name)
	if err != nil && !errors.Is(err, refs.ErrNotFound) {
		return "", err
	}
	if old == to {
		return old, nil
	}
	if old != "" {
		ok, err := IsAncestor(r.Objects, old, to)
		if err != nil {
			return old, err
		}
		if !ok {
			return old, fmt.Errorf("branch %s and the remote have diverged: %w (strata does not merge yet)", branch, ErrNonFastForward)
		}
	}
	if h, err := r.Refs.ReadHead(); err == nil && h.Branch == name {
		return old, r.Refs.UpdateHead(to, old, msg)
	}
	return old, r.Refs.Update(name, to, old, msg)
}
