package objects

// The summary cache's file: mapped, looked up through a fan-out table
// and a binary search, each record checked; docs/format.md, "The summary
// cache", has the format.

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"runtime/debug"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/mapfile"
	"golang.org/x/sys/unix"
)

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
	return crc32.Update(crc32.Checksum(rawID, castagnoli()), castagnoli(), body) == sum
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
	crc := crc32.Update(crc32.Checksum(raw[:], castagnoli()), castagnoli(), b[start:])
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
