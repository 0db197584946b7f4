package objects

import (
	"bytes"
	"encoding/binary"
	"slices"
)

// How SaveSummaries writes the summary cache file (summaries.go).

// notedSummaries are the summaries a store read from blobs since the
// cache was opened, in chunks that are never copied as they grow: a map
// of them, grown by rehashing, was a tenth of the page faults of a cold
// log. A commit read twice is there twice; the file holds it once.
type notedSummaries struct {
	chunks [][]notedSummary
	n      int
}

// notedSummary is a summary and its commit's id bytes, decoded as it is
// noted, while the id is in the processor's cache: decoded as the file
// is written, every id was a cache miss.
type notedSummary struct {
	raw    [32]byte
	sha256 bool // the id is a sha256 digest (no other is ever looked up)
	sum    Summary
}

const notedChunk = 256

func (n *notedSummaries) add(sum Summary) {
	if n.n%notedChunk == 0 {
		n.chunks = append(n.chunks, make([]notedSummary, 0, notedChunk))
	}
	raw, err := rawSHA256(sum.ID)
	last := &n.chunks[len(n.chunks)-1]
	*last = append(*last, notedSummary{raw, err == nil, sum})
	n.n++
}

func (n *notedSummaries) at(i int32) *notedSummary {
	return &n.chunks[i/notedChunk][i%notedChunk]
}

// A cacheEntry is a record of the file being written: the commit's id
// bytes, and where its summary is. It holds no pointer, so the sort
// moves no pointers (moving summaries took write barriers, and was half
// of the encoding).
type cacheEntry struct {
	raw  [32]byte
	from uint8 // fromNoted, fromJournal or fromFile
	i    int32 // its index in what it is from
}

const (
	fromNoted = iota
	fromJournal
	fromFile
)

// cacheBuild gathers the entries of the file being written: what the
// store read (noted), then what the journal has that it did not read,
// then what the old file has that neither has, so that a commit is there
// once, and what this store read wins over the journal, which wins over
// the file.
type cacheBuild struct {
	entries []cacheEntry // the noted first, sorted, then the others
	nNoted  int
	noted   *notedSummaries
	journal []Summary
	recs    []byte   // the old file's records that are kept, copied
	recEnds []uint32 // where each ends in recs
}

// addNoted adds the noted summaries of sha256 commits, each once, and
// sorts them.
func (b *cacheBuild) addNoted() {
	b.entries = make([]cacheEntry, 0, b.noted.n)
	i := int32(0)
	for _, chunk := range b.noted.chunks {
		for _, n := range chunk {
			if n.sha256 {
				b.entries = append(b.entries, cacheEntry{raw: n.raw, from: fromNoted, i: i})
			}
			i++
		}
	}
	slices.SortFunc(b.entries, compareEntries)
	b.entries = slices.CompactFunc(b.entries, func(x, y cacheEntry) bool { return x.raw == y.raw })
	b.nNoted = len(b.entries)
}

// wasNoted reports whether commit raw's summary was noted.
func (b *cacheBuild) wasNoted(raw *[32]byte) bool {
	_, found := slices.BinarySearchFunc(b.entries[:b.nNoted], raw, func(e cacheEntry, raw *[32]byte) int {
		return bytes.Compare(e.raw[:], raw[:])
	})
	return found
}

func (b *cacheBuild) addJournal(raw [32]byte, sum Summary) {
	b.entries = append(b.entries, cacheEntry{raw: raw, from: fromJournal, i: int32(len(b.journal))})
	b.journal = append(b.journal, sum)
}

// addFileRecords adds every sound record of f whose commit keep keeps,
// copied: the bytes are the same wherever the record lies in the file
// (its CRC covers the id and the record alone). No more once the
// mapping faults (the file shrank).
func (b *cacheBuild) addFileRecords(f *summaryFile, keep func(raw *[32]byte) bool) {
	if f.data == nil {
		return
	}
	f.eachRecord(func(raw *[32]byte, rec []byte) {
		if keep(raw) {
			b.recs = append(b.recs, rec...)
			b.entries = append(b.entries, cacheEntry{raw: *raw, from: fromFile, i: int32(len(b.recEnds))})
			b.recEnds = append(b.recEnds, uint32(len(b.recs)))
		}
	})
}

func compareEntries(x, y cacheEntry) int { return bytes.Compare(x.raw[:], y.raw[:]) }

// encode is the cache file of the entries.
func (b *cacheBuild) encode() ([]byte, error) {
	if b.nNoted < len(b.entries) {
		slices.SortFunc(b.entries, compareEntries)
	}
	n := len(b.entries)
	var fanout [256]uint32
	for _, e := range b.entries {
		fanout[e.raw[0]]++
	}
	for i := 1; i < 256; i++ {
		fanout[i] += fanout[i-1]
	}
	// The records follow the tables in the same buffer, sized for them
	// (growing it, and copying the records after the tables, was a
	// seventh of the encoding); the tables are filled in last. A large
	// file's second half is encoded on another goroutine, into a buffer
	// of its own: a log ends with this, one core otherwise idle.
	head := len(summariesMagic) + 4 + 256*4 + 32*n + 4*(n+1)
	half := n
	if n >= parallelEncodeFrom {
		half = n / 2
	}
	offs := make([]uint32, n+1)
	firstSize, secondSize := b.recordsSize(0, half), b.recordsSize(half, n)
	var second []byte
	secondErr := make(chan error, 1)
	if half < n {
		go func() {
			var err error
			second, err = b.encodeRecords(make([]byte, 0, secondSize), half, n, offs)
			secondErr <- err
		}()
	}
	out, err := b.encodeRecords(make([]byte, head, head+firstSize+secondSize), 0, half, offs)
	if half < n {
		if err2 := <-secondErr; err == nil {
			err = err2
		}
		if err == nil {
			shift := uint32(len(out) - head)
			for i := half; i < n; i++ {
				offs[i] += shift
			}
			out = append(out, second...)
		}
	}
	if err != nil {
		return nil, err
	}
	offs[n] = uint32(len(out) - head)
	p := out[copy(out, summariesMagic):]
	binary.BigEndian.PutUint32(p, uint32(n))
	for i, c := range fanout {
		binary.BigEndian.PutUint32(p[4+4*i:], c)
	}
	ids := p[4+256*4:]
	for i, e := range b.entries {
		copy(ids[32*i:], e.raw[:])
	}
	for i, o := range offs {
		binary.BigEndian.PutUint32(ids[32*n+4*i:], o)
	}
	return out, nil
}

// parallelEncodeFrom is the number of entries from which encode uses
// two goroutines (a variable for tests).
var parallelEncodeFrom = 4096

// recordsSize is at least the size of the records of entries [from, to).
func (b *cacheBuild) recordsSize(from, to int) int {
	size := 0
	for _, e := range b.entries[from:to] {
		if e.from == fromFile {
			size += len(b.record(e.i))
			continue
		}
		sum := b.summary(e)
		size += 1 + 2*32 + 3*binary.MaxVarintLen64 + len(sum.Author) + 64 + len(sum.Message) + 4
	}
	return size
}

// encodeRecords appends the records of entries [from, to) to out, and
// sets their offsets from where out ends now.
func (b *cacheBuild) encodeRecords(out []byte, from, to int, offs []uint32) ([]byte, error) {
	base := len(out)
	for i := from; i < to; i++ {
		e := &b.entries[i]
		offs[i] = uint32(len(out) - base)
		if e.from == fromFile {
			out = append(out, b.record(e.i)...)
			continue
		}
		var err error
		if out, err = encodeRawRecord(out, &e.raw, *b.summary(*e)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// summary is the summary of an entry from the noted or the journal.
func (b *cacheBuild) summary(e cacheEntry) *Summary {
	if e.from == fromNoted {
		return &b.noted.at(e.i).sum
	}
	return &b.journal[e.i]
}

// record is the i-th record copied from the old file.
func (b *cacheBuild) record(i int32) []byte {
	start := uint32(0)
	if i > 0 {
		start = b.recEnds[i-1]
	}
	return b.recs[start:b.recEnds[i]]
}
