package main

import (
	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/checkout"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/objects"
)

// log -- PATH keeps the commits whose own layers changed one of the
// paths, compared through the file indexes (checkout.History).
func init() {
	var h *checkout.History
	pathFilter = func(r *repo.Repo, id digest.Digest, paths []string) (bool, error) {
		if h == nil {
			h = checkout.NewHistory(r.Objects)
		}
		c, err := r.Objects.ReadCommit(id)
		if err != nil {
			return false, err
		}
		var parent *objects.Commit
		if pid := c.Parent(); pid != "" && r.Objects.Has(pid) {
			if parent, err = r.Objects.ReadCommit(pid); err != nil {
				return false, err
			}
		}
		for _, p := range cleanPaths(paths) {
			if changed, err := h.Changed(c, parent, p); err != nil || changed {
				return changed, err
			}
		}
		return false, nil
	}
}
