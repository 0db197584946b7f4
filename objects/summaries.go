package objects

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/mapfile"
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

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

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

// openSummaryFile maps the cache file at path; a missing, short or
// malformed one gives a summaryFile with no data.
func openSummaryFile(path string) summaryFile {
	// No link followed, and a FIFO put there does not block the open.
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	if err != nil {
		return summaryFile{}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() < int64(len(summariesMagic)+4+256*4+4) || fi.Size() > 1<<31 {
		return summaryFile{}
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return summaryFile{}
	}
	sf, err := parseSummaryFile(data)
	if err != nil {
		slog.Debug("summary cache passed over", "path", path, "err", err)
		unix.Munmap(data)
		return summaryFile{}
	}
	// The mapping lives as long as the process: a Store is open for a
	// command's whole run.
	return sf
}

// ErrBadSummaries: the summary cache file is there but is not one.
var ErrBadSummaries = errors.New("malformed summary cache")

// parseSummaryFile checks the layout of a cache file's bytes: the magic,
// the fanout, and sizes that hold the tables. Records are checked as
// they are read.
func parseSummaryFile(data []byte) (f summaryFile, err error) {
	defer mapfile.Guard(&err)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	if !bytes.HasPrefix(data, []byte(summariesMagic)) {
		return f, ErrBadSummaries
	}
	p := data[len(summariesMagic):]
	n := int(binary.BigEndian.Uint32(p))
	p = p[4:]
	if n > len(p)/36 || len(p) < 256*4+32*n+4*(n+1) {
		return f, ErrBadSummaries
	}
	f = summaryFile{data: data, n: n, fanout: p[:256*4]}
	p = p[256*4:]
	f.ids, p = p[:32*n], p[32*n:]
	f.offs, f.recs = p[:4*(n+1)], p[4*(n+1):]
	if int(binary.BigEndian.Uint32(f.fanout[255*4:])) != n {
		return summaryFile{}, ErrBadSummaries
	}
	return f, nil
}

// lookup finds id's record and decodes it.
func (f *summaryFile) lookup(id digest.Digest) (sum Summary, ok bool) {
	var fault error
	defer func() {
		if fault != nil { // the file shrank under the mapping
			sum, ok = Summary{}, false
		}
	}()
	defer mapfile.Guard(&fault)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	if i := f.find(id); i >= 0 {
		return f.record(i, id)
	}
	return Summary{}, false
}

// has reports whether the file has a sound record of commit id, as
// lookup does, but without decoding it: its CRC holds (what strata
// wrote decodes).
func (f *summaryFile) has(id digest.Digest) (ok bool) {
	if f.data == nil {
		return false
	}
	var fault error
	defer func() {
		if fault != nil {
			ok = false
		}
	}()
	defer mapfile.Guard(&fault)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	i := f.find(id)
	if i < 0 {
		return false
	}
	rec, ok := f.recordBytes(i)
	return ok && crcHolds(f.ids[32*i:32*i+32], rec)
}

// find is the index of commit id in the file, -1 if it has none. The
// caller recovers a fault of the mapping.
func (f *summaryFile) find(id digest.Digest) int {
	key, err := rawSHA256(id)
	if err != nil {
		return -1
	}
	lo := 0
	if key[0] > 0 {
		lo = int(binary.BigEndian.Uint32(f.fanout[4*(int(key[0])-1):]))
	}
	hi := int(binary.BigEndian.Uint32(f.fanout[4*int(key[0]):]))
	if lo > hi || hi > f.n {
		return -1
	}
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		switch c := bytes.Compare(f.ids[32*mid:32*mid+32], key[:]); {
		case c == 0:
			return mid
		case c < 0:
			lo = mid + 1
		default:
			hi = mid
		}
	}
	return -1
}

// commits lists the file's commit ids, without decoding their records;
// none if the mapping faults (lookups pass it over then too).
func (f *summaryFile) commits() (ids []digest.Digest) {
	if f.data == nil {
		return nil
	}
	var fault error
	defer func() {
		if fault != nil {
			ids = nil
		}
	}()
	defer mapfile.Guard(&fault)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	ids = make([]digest.Digest, 0, f.n)
	for i := range f.n {
		ids = append(ids, digest.NewDigestFromBytes(digest.SHA256, f.ids[32*i:32*i+32]))
	}
	return ids
}

// eachRecord calls fn with the id bytes and the record of every entry
// whose CRC holds (fn copies what it keeps: the mapping may fault
// after); no more once the mapping faults (the file shrank).
func (f *summaryFile) eachRecord(fn func(raw *[32]byte, rec []byte)) (err error) {
	defer mapfile.Guard(&err)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	var raw [32]byte
	for i := range f.n {
		copy(raw[:], f.ids[32*i:32*i+32])
		if rec, ok := f.recordBytes(i); ok && crcHolds(raw[:], rec) {
			fn(&raw, rec)
		}
	}
	return nil
}

// record decodes record i, commit id's, if its offsets and CRC hold.
func (f *summaryFile) record(i int, id digest.Digest) (Summary, bool) {
	rec, ok := f.recordBytes(i)
	if !ok {
		return Summary{}, false
	}
	return checkedRecord(f.ids[32*i:32*i+32], id, rec)
}

// recordBytes is the i-th record's bytes, if the offsets hold.
func (f *summaryFile) recordBytes(i int) ([]byte, bool) {
	start := binary.BigEndian.Uint32(f.offs[4*i:])
	end := binary.BigEndian.Uint32(f.offs[4*i+4:])
	if start > end || int(end) > len(f.recs) || end-start < 5 {
		return nil, false
	}
	return f.recs[start:end], true
}

// checkedRecord decodes rec, the record of commit id (rawID its 32
// bytes), if its CRC holds.
func checkedRecord(rawID []byte, id digest.Digest, rec []byte) (Summary, bool) {
	if !crcHolds(rawID, rec) {
		return Summary{}, false
	}
	return decodeSummary(id, rec[:len(rec)-4])
}

// crcHolds reports whether record rec of commit rawID ends with the
// CRC32C of rawID and the rest of rec.
func crcHolds(rawID, rec []byte) bool {
	if len(rec) < 5 {
		return false
	}
	body, sum := rec[:len(rec)-4], binary.BigEndian.Uint32(rec[len(rec)-4:])
	return crc32.Update(crc32.Checksum(rawID, castagnoli), castagnoli, body) == sum
}

// A record: a flags byte (1: a parent follows, 2: a merge parent
// follows), the 32 bytes of each parent it has, then author, date
// (RFC 3339, as the annotation has it) and message, each as a uvarint
// length and bytes; then the CRC32C (Castagnoli) of the commit's 32 id
// bytes and all of the above.
func encodeRecord(b []byte, id digest.Digest, sum Summary) ([]byte, error) {
	raw, err := rawSHA256(id)
	if err != nil {
		return nil, err
	}
	return encodeRawRecord(b, &raw, sum)
}

// encodeRawRecord is encodeRecord of the commit whose id's bytes are
// *raw (a pointer: crc32 keeps the bytes it is given on the heap, and a
// copy there was an allocation a record).
func encodeRawRecord(b []byte, raw *[32]byte, sum Summary) ([]byte, error) {
	start := len(b)
	b = append(b, 0) // the flags
	for _, e := range [...]struct {
		bit byte
		p   digest.Digest
	}{{1, sum.Parent}, {2, sum.MergeParent}} {
		if e.p == "" {
			continue
		}
		p, err := rawSHA256(e.p)
		if err != nil {
			return nil, err
		}
		b[start] |= e.bit
		b = append(b, p[:]...)
	}
	b = binary.AppendUvarint(b, uint64(len(sum.Author)))
	b = append(b, sum.Author...)
	// The date is formatted in place, after a byte for its length: no
	// time.Time formats to 128 bytes or more, the most one uvarint byte
	// holds (a buffer to format it into first was an allocation a record).
	date := len(b)
	b = sum.Date.AppendFormat(append(b, 0), time.RFC3339Nano)
	b[date] = byte(len(b) - date - 1)
	b = binary.AppendUvarint(b, uint64(len(sum.Message)))
	b = append(b, sum.Message...)
	crc := crc32.Update(crc32.Checksum(raw[:], castagnoli), castagnoli, b[start:])
	return binary.BigEndian.AppendUint32(b, crc), nil
}

// decodeSummary decodes a record's body (its CRC checked).
func decodeSummary(id digest.Digest, body []byte) (Summary, bool) {
	sum := Summary{ID: id}
	flags, p := body[0], body[1:]
	for _, e := range []struct {
		bit byte
		to  *digest.Digest
	}{{1, &sum.Parent}, {2, &sum.MergeParent}} {
		if flags&e.bit == 0 {
			continue
		}
		if len(p) < 32 {
			return Summary{}, false
		}
		*e.to = digest.NewDigestFromBytes(digest.SHA256, p[:32])
		p = p[32:]
	}
	var fields [3]string
	for i := range fields {
		n, k := binary.Uvarint(p)
		if k <= 0 || n > uint64(len(p)-k) {
			return Summary{}, false
		}
		fields[i] = string(p[k : k+int(n)])
		p = p[k+int(n):]
	}
	date, err := time.Parse(time.RFC3339Nano, fields[1])
	if err != nil || len(p) != 0 {
		return Summary{}, false
	}
	sum.Author, sum.Date, sum.Message = fields[0], date, fields[2]
	return sum, true
}

// rawSHA256 is the 32 bytes of sha256 digest d.
func rawSHA256(d digest.Digest) (raw [32]byte, err error) {
	const prefix = string(digest.SHA256) + ":"
	if len(d) != len(prefix)+2*len(raw) || string(d[:len(prefix)]) != prefix {
		return raw, fmt.Errorf("%s: not a sha256 digest", d)
	}
	// Copied to an array: a []byte conversion of the string was an
	// allocation a digest (three a record the cache writes).
	var enc [2 * len(raw)]byte
	copy(enc[:], d[len(prefix):])
	if _, err := hex.Decode(raw[:], enc[:]); err != nil {
		return raw, fmt.Errorf("%s: %w", d, err)
	}
	return raw, nil
}
