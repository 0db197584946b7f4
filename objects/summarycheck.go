package objects

import (
	"errors"
	"os"
	"slices"

	"github.com/opencontainers/go-digest"
)

// What fsck asks of the summary cache (summaries.go): whether an entry
// says what its commit says, and whether the file is one.

// SummaryDiffers reports whether the summary cache has an entry for
// commit id that says other than m, its manifest head as fsck just read
// and checked it (with the config's history for an image strata did not
// commit): log would show that entry.
func (s *Store) SummaryDiffers(id digest.Digest, m *ManifestHead) bool {
	cached, ok := s.lookupSummary(id) // fsck just read the blob
	if !ok {
		return false
	}
	sum, complete := summaryOf(id, m)
	if !complete {
		var err error
		if sum, err = s.withConfigSummary(sum); err != nil {
			return true
		}
	}
	return !sameSummary(sum, cached)
}

// ErrSummaryDiffers is a summary, as a walk took it from the summary
// cache, that says other than its commit.
var ErrSummaryDiffers = errors.New("summary cache entry differs from the commit")

// CheckSummary is ErrSummaryDiffers if sum, what a walk took of its
// commit (from the summary cache, perhaps), says other than the commit's
// manifest, read and checked here: a command that reads the commit
// anyway (log -p) binds the record to it for one manifest read more.
func (s *Store) CheckSummary(sum Summary) error {
	m, err := s.ReadManifestHead(sum.ID)
	if err != nil {
		return err
	}
	own, complete := summaryOf(sum.ID, m)
	if !complete {
		if own, err = s.withConfigSummary(own); err != nil {
			return err
		}
	}
	if !sameSummary(own, sum) {
		return ErrSummaryDiffers
	}
	return nil
}

// CheckCommitSummary is CheckSummary against c, the commit sum
// describes, which the caller read and checked anyway (log -- PATH): no
// read more.
func CheckCommitSummary(c *Commit, sum Summary) error {
	if !sameSummary(CommitSummary(c), sum) {
		return ErrSummaryDiffers
	}
	return nil
}

// DifferingSummaries lists the commits the summary cache has an entry
// for, in the file or the journal, that skip does not pass over, and
// whose entry says other than their manifest, read and checked here. A
// commit the store lacks is left out (its entry is never used), as is
// one whose manifest does not read back (a check of the blobs names it).
func (s *Store) DifferingSummaries(skip func(digest.Digest) bool) []digest.Digest {
	ids := s.summaryFile().commits()
	for id := range s.summaries.journal {
		ids = append(ids, id)
	}
	var differ []digest.Digest
	for _, id := range ids {
		if skip(id) || !s.Has(id) {
			continue
		}
		if m, err := s.ReadManifestHead(id); err == nil && s.SummaryDiffers(id, m) {
			differ = append(differ, id)
		}
	}
	slices.Sort(differ)
	return slices.Compact(differ)
}

// CheckSummariesFile is ErrBadSummaries if the summary cache file is
// there but is not one (log passes it over, and writes it again).
func (s *Store) CheckSummariesFile() error {
	if !s.summaries.on || s.summaryFile().data != nil {
		return nil
	}
	if _, err := os.Lstat(s.summariesFile()); err == nil {
		return ErrBadSummaries
	}
	return nil
}

// CheckSummaryJournal says what log passes over of the summary journal:
// ErrJournalNotFile if it is not a regular file, or which of its bytes
// do not hold entries (an append cut short by a kill or a full disk
// leaves these; so does damage). nil if it reads whole or is not there.
func (s *Store) CheckSummaryJournal() error {
	s.summaryFile()
	return s.summaries.journalErr
}
