package objects

import (
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"

	"github.com/strata-sh/strata/internal/atomicfile"
)

// The summary cache, indexes/summaries: what log shows of the commits a
// walk has read, so that the next walk need not read them again. A real
// commit's manifest lists up to 128 layers, some 18 KB that a walk reads,
// hashes and scans for four annotations; the cache gives them in about a
// microsecond. A commit never changes, so an entry never goes stale; a
// commit gc removed is not given from it, since a hit is given only for
// a blob the store still has. The file is replaced whole (written aside,
// renamed), records carry a CRC32C over their commit id and bytes, and a
// file or record that fails its checks is passed over: the blob is read
// as if the cache were not there. docs/format.md, "The summary cache".

const summariesMagic = "strata summaries 1\n"

// summariesFile is the cache's path below a store.
func (s *Store) summariesFile() string { return filepath.Join(s.root, "indexes", "summaries") }

// summaryCache is a store's view of its summary cache: the file as it
// was at the first lookup, mapped, the journal as it was then
// (summaryjournal.go), and what was read since that they lack.
type summaryCache struct {
	on          bool
	once        sync.Once
	file        summaryFile
	journal     map[digest.Digest]Summary
	journalSize int64 // bytes of the journal read
	journalErr  error // what of the journal was passed over, if any

	mu    sync.Mutex
	noted notedSummaries
}

// summaryFile is a mapped cache file: n commit ids in order (a fanout
// table of 256 counts by first byte narrows the search), each with the
// offset of its record.
type summaryFile struct {
	data   []byte // the whole mapping; nil if there is no usable file
	n      int
	fanout []byte // 256 big-endian uint32: ids whose first byte is <= i
	ids    []byte // n * 32
	offs   []byte // (n+1) big-endian uint32, into recs
	recs   []byte
}

// castagnoli is the CRC32-C table of the summary cache's records. Made on
// first use, not at init: hash/crc32 builds its SSE4.2 tables with it
// (about 190,000 dependent crc32 instructions), which every strata start
// would pay, a command that never reads the cache included.
func castagnoli() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) }

// cachedSummary gives commit id's summary from the cache, if it has a
// sound record and the store the blob.
func (s *Store) cachedSummary(id digest.Digest) (Summary, bool) {
	sum, ok := s.lookupSummary(id)
	if !ok || !s.present(id) {
		return Summary{}, false
	}
	return sum, true
}

// lookupSummary is the cache's record of commit id, if sound, whether
// or not the store has the blob.
func (s *Store) lookupSummary(id digest.Digest) (Summary, bool) {
	f := s.summaryFile()
	if id.Algorithm() != digest.SHA256 {
		return Summary{}, false
	}
	if f.data != nil {
		if sum, ok := f.lookup(id); ok {
			return sum, true
		}
	}
	sum, ok := s.summaries.journal[id]
	return sum, ok
}

// KeepSummaries turns the summary cache on: for a repository's own
// store (repo.Open), never for a layout a remote or a container may
// hold, whose cache would be believed without the blobs it stands for.
func (s *Store) KeepSummaries() { s.summaries.on = true }

// summaryFile is the cache file, mapped at the first call, when the
// journal is read too; it has no data if the cache is off.
func (s *Store) summaryFile() *summaryFile {
	c := &s.summaries
	c.once.Do(func() {
		if c.on {
			c.file = openSummaryFile(s.summariesFile())
			c.journal, c.journalSize, c.journalErr = readJournal(s.summaryJournal())
		}
	})
	return &c.file
}

// NoteManifest remembers what the annotations of commit id's manifest
// say of it, for SaveSummaries, if they say it all (strata wrote them):
// a fetch, which has read and checked every manifest it stores, calls
// it so that the first log after a clone reads none of them again.
func (s *Store) NoteManifest(id digest.Digest, annotations map[string]string) {
	if sum, complete := summaryOf(id, &ManifestHead{Annotations: annotations}); complete {
		s.noteSummary(sum)
	}
}

// noteSummary remembers sum, just read and checked from its blob, for
// SaveSummaries.
func (s *Store) noteSummary(sum Summary) {
	c := &s.summaries
	if !c.on {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.noted.add(sum)
}

// SaveSummaries writes the summaries read from blobs since the cache was
// opened, and the journal's, into the cache file, when those the file
// lacks are enough to be worth rewriting it: at least 64, and a
// sixteenth of what it holds (so rewrites cost, over a growing history,
// a constant share of the reads they save), or when the journal is
// torn; then it removes the journal.
// Walks that read many commits (log) call it as they end. Entries of
// commits the store no longer has are left out.
func (s *Store) SaveSummaries() error {
	f := s.summaryFile()
	c := &s.summaries
	c.mu.Lock()
	noted := c.noted
	c.noted = notedSummaries{}
	c.mu.Unlock()
	if !c.on {
		return nil
	}
	b := cacheBuild{noted: &noted}
	b.addNoted()
	fresh := len(b.entries)
	type journalEntry struct {
		raw [32]byte
		sum Summary
	}
	var journal []journalEntry // what the journal has that was not noted
	for id, sum := range c.journal {
		raw, err := rawSHA256(id)
		if err != nil || b.wasNoted(&raw) {
			continue
		}
		journal = append(journal, journalEntry{raw, sum})
		if !f.has(id) {
			fresh++
		}
	}
	// A torn journal is folded whatever it brings: appended to, it
	// would hold nothing readable after the tear.
	torn := errors.Is(c.journalErr, errJournalTorn)
	if !torn && (fresh < 64 || fresh < f.n/16) {
		return nil
	}
	// Entries of commits the store no longer has are left out.
	for _, e := range journal {
		if s.present(e.sum.ID) {
			b.addJournal(e.raw, e.sum)
		}
	}
	b.addFileRecords(f, func(raw *[32]byte) bool {
		if b.wasNoted(raw) {
			return false
		}
		id := digest.NewDigestFromBytes(digest.SHA256, raw[:])
		_, inJournal := c.journal[id]
		return !inJournal && s.present(id)
	})
	out, err := b.encode()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(s.summariesFile()), 0o755); err != nil {
		return fmt.Errorf("write summary cache: %w", err)
	}
	if err := atomicfile.Write(s.TempDir(), s.summariesFile(), out, 0o644); err != nil {
		return fmt.Errorf("write summary cache: %w", err)
	}
	s.dropJournal()
	return nil
}

// dropJournal removes the journal once the cache file holds what was
// read of it. One that grew since (a commit ran alongside) stays: its
// older entries are in the file too, which is harmless, as is losing an
// entry appended between the check and the removal (a cache miss).
func (s *Store) dropJournal() {
	var st unix.Stat_t
	if unix.Lstat(s.summaryJournal(), &st) != nil || st.Size != s.summaries.journalSize {
		return
	}
	if err := os.Remove(s.summaryJournal()); err != nil {
		slog.Debug("summary journal not removed", "err", err)
	}
}

// sameSummary: a and b say the same, their dates in the same zone.
func sameSummary(a, b Summary) bool {
	return a.ID == b.ID && a.Parent == b.Parent && a.MergeParent == b.MergeParent && a.Author == b.Author &&
		a.Message == b.Message && a.Date.Equal(b.Date) && a.Date.Format(time.RFC3339Nano) == b.Date.Format(time.RFC3339Nano)
}

// present is Has for a sha256 blob that is a regular file, by one
// fstatat beneath the blob directory.
func (s *Store) present(id digest.Digest) bool {
	dir := s.sha256Dir()
	if dir < 0 {
		return s.Has(id)
	}
	// A blob that is no regular file (a FIFO, a link put in its place)
	// is not one: reading it fails, and so must a log that needs it.
	var st unix.Stat_t
	return unix.Fstatat(dir, id.Encoded(), &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG
}
