package objects

import (
	"time"

	"github.com/opencontainers/go-digest"
)

// CommitInfo is what revision syntax's :/TEXT needs of commit id: its
// message, its date and the parents the store has (refs cannot name a
// Summary).
func (s *Store) CommitInfo(id digest.Digest) (string, time.Time, []digest.Digest, error) {
	sum, err := s.ReadSummary(id)
	if err != nil {
		return "", time.Time{}, nil, err
	}
	var parents []digest.Digest
	for _, p := range []digest.Digest{sum.Parent, sum.MergeParent} {
		if p != "" && s.Has(p) {
			parents = append(parents, p)
		}
	}
	return sum.Message, sum.Date, parents, nil
}
