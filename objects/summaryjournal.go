package objects

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"
)

// The summary journal, indexes/summaries-journal: the summaries of the
// commits this repository wrote since log last rewrote the cache file.
// A commit appends its own as it is stored (WriteCommit; a rebase's
// batch through NoteCommits), so the first log of a history made here
// reads no manifest it made; log folds the journal into the cache file
// when it rewrites it (SaveSummaries), and removes it.
//
// An entry is the byte 1, the commit's 32 id bytes, a uvarint length and
// a record as the cache file holds one (its CRC32C covers the id and the
// record). Each entry is one append; a torn last entry (a crash, a full
// disk) and whatever follows an entry that does not hold are passed over.

// journalLimit: a journal past this size (about 28,000 commits made with
// no log between) is not appended to; log folds it.
const journalLimit = 4 << 20

// summaryJournal is the journal's path below a store.
func (s *Store) summaryJournal() string { return filepath.Join(s.root, "indexes", "summaries-journal") }

// NoteCommits appends the summaries of commits cs, just stored, to the
// summary journal, if the store keeps summaries. The journal is a cache:
// failing to write it fails no commit.
func (s *Store) NoteCommits(cs ...*Commit) {
	if !s.summaries.on {
		return
	}
	var b []byte
	for _, c := range cs {
		sum, complete := summaryOf(c.ID, &ManifestHead{Annotations: c.Manifest.Annotations})
		if !complete {
			continue
		}
		var err error
		if b, err = appendJournalEntry(b, sum); err != nil {
			slog.Debug("summary journal: entry not written", "commit", c.ID, "err", err)
			return
		}
	}
	if len(b) == 0 {
		return
	}
	if err := appendJournal(s.summaryJournal(), b); err != nil {
		slog.Debug("summary journal not written", "err", err)
	}
}

// appendJournal appends entries b to the journal at path in one write.
func appendJournal(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	// No link followed, and a FIFO put there does not block the open.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file", path)
	}
	if fi.Size() > journalLimit {
		return nil
	}
	_, err = f.Write(b)
	return err
}

// appendJournalEntry appends the journal entry of sum to b.
func appendJournalEntry(b []byte, sum Summary) ([]byte, error) {
	raw, err := rawSHA256(sum.ID)
	if err != nil {
		return nil, err
	}
	rec, err := encodeRecord(nil, sum.ID, sum)
	if err != nil {
		return nil, err
	}
	b = append(b, 1)
	b = append(b, raw[:]...)
	b = binary.AppendUvarint(b, uint64(len(rec)))
	return append(b, rec...), nil
}

// readJournal reads the journal at path: its entries up to the first
// that does not hold, and its size as read (0 if there is none). err
// says what was passed over (CheckSummaryJournal): nil for a journal
// that reads whole or is not there.
func readJournal(path string) (sums map[digest.Digest]Summary, size int64, err error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, 0, nil
	case errors.Is(err, unix.ELOOP):
		return nil, 0, ErrJournalNotFile
	case err != nil:
		return nil, 0, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, 0, cmp.Or(err, ErrJournalNotFile)
	}
	b, err := io.ReadAll(io.LimitReader(f, 2*journalLimit))
	if err != nil {
		return nil, 0, err
	}
	sums = map[digest.Digest]Summary{}
	for p := b; len(p) > 0; {
		sum, n, ok := parseJournalEntry(p)
		if !ok {
			off := len(b) - len(p)
			slog.Debug("summary journal: passed over from an entry that does not hold", "path", path, "offset", off)
			err = fmt.Errorf("entries from byte %d on %w", off, errJournalTorn)
			break
		}
		sums[sum.ID] = sum
		p = p[n:]
	}
	return sums, int64(len(b)), err
}

// errJournalTorn: the journal's entries stop holding at some byte.
var errJournalTorn = errors.New("do not hold (an append cut short, or damage): the next log folds those before into the cache and removes it")

// ErrJournalNotFile: something other than a regular file (a directory,
// a link, a FIFO) is where the summary journal goes; no append makes one.
var ErrJournalNotFile = errors.New("not a regular file: neither read nor appended to")

// parseJournalEntry decodes the entry p starts with, and its length.
func parseJournalEntry(p []byte) (Summary, int, bool) {
	if len(p) < 1+32+1 || p[0] != 1 {
		return Summary{}, 0, false
	}
	rawID := p[1:33]
	n, k := binary.Uvarint(p[33:])
	if k <= 0 || n > uint64(len(p)-33-k) {
		return Summary{}, 0, false
	}
	start := 33 + k
	id := digest.NewDigestFromBytes(digest.SHA256, rawID)
	sum, ok := checkedRecord(rawID, id, p[start:start+int(n)])
	return sum, start + int(n), ok
}
