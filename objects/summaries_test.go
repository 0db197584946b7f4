package objects

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"
)

// summaryHistory writes n commits, a merge every 7th, with dates in
// three zones and messages of every size, and returns their summaries
// as read from the blobs, newest last.
func summaryHistory(t testing.TB, s *Store, n int) []Summary {
	t.Helper()
	zones := []*time.Location{time.UTC, time.FixedZone("", 2*3600), time.FixedZone("", -(9*3600 + 30*60))}
	var parent *Commit
	var side digest.Digest
	var sums []Summary
	for i := range n {
		nc := NewCommit{Parent: parent, Author: "A <a@example.com>", Message: string(make([]byte, i%300)) + "m",
			Date: time.Date(2024, 1, 1, 0, 0, i, i*1000, zones[i%3]), OS: "linux", Architecture: "amd64"}
		if i%7 == 6 {
			nc.MergeParent = side
		}
		c, err := s.WriteCommit(nc)
		if err != nil {
			t.Fatal(err)
		}
		side, parent = c.ID, c
		sum, err := s.readSummary(c.ID)
		if err != nil {
			t.Fatal(err)
		}
		sums = append(sums, sum)
	}
	return sums
}

// spoil overwrites blob id with a JSON object that is no manifest.
func spoil(t *testing.T, s *Store, id digest.Digest) {
	t.Helper()
	if err := os.Chmod(s.BlobPath(id), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.BlobPath(id), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// openSummaries opens the store in dir with its summary cache on.
func openSummaries(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.KeepSummaries()
	return s
}

// saveSummaries reads every summary through the cache and saves it.
func saveSummaries(t testing.TB, s *Store, sums []Summary) {
	t.Helper()
	for _, want := range sums {
		if _, err := s.ReadSummary(want.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SaveSummaries(); err != nil {
		t.Fatal(err)
	}
}

// TestSummaryCacheGivesWhatTheBlobsSay: summaries saved by one store
// are given by the next from the cache, the same as from the blobs (two
// parents, zones, nanoseconds), and without reading a blob: a manifest
// overwritten with garbage is not read.
func TestSummaryCacheGivesWhatTheBlobsSay(t *testing.T) {
	s := newTestStore(t)
	s.KeepSummaries()
	sums := append(summaryHistory(t, s, 200), importedSummary(t, s))
	saveSummaries(t, s, sums)
	if _, err := os.Stat(s.summariesFile()); err != nil {
		t.Fatalf("no cache written: %v", err)
	}
	again := openSummaries(t, s.Root())
	spoilt := sums[100].ID
	spoil(t, again, spoilt)
	for _, want := range sums {
		got, err := again.ReadSummary(want.ID)
		if err != nil || !sameSummary(got, want) {
			t.Fatalf("cached summary of %s = %+v, %v; want %+v", want.ID, got, err, want)
		}
	}
}

// TestSummaryCacheGivesNoRemovedCommit: a commit whose blob is gone is
// not found, though the cache has it (gc removed it).
func TestSummaryCacheGivesNoRemovedCommit(t *testing.T) {
	s := newTestStore(t)
	s.KeepSummaries()
	sums := summaryHistory(t, s, 80)
	saveSummaries(t, s, sums)
	again := openSummaries(t, s.Root())
	gone := sums[40].ID
	if err := again.Delete(gone); err != nil {
		t.Fatal(err)
	}
	if _, err := again.ReadSummary(gone); !errors.Is(err, ErrNotFound) {
		t.Fatalf("summary of a removed commit: %v, want ErrNotFound", err)
	}
	if _, err := again.ReadSummary(sums[41].ID); err != nil {
		t.Fatal(err)
	}
}

// TestSummaryCacheSurvivesDamage: whatever byte of the cache file is
// changed, and wherever the file is cut, every summary is still what
// the blobs say (a record that fails its CRC, or a table that no longer
// holds, is passed over for the blob), and nothing panics.
func TestSummaryCacheSurvivesDamage(t *testing.T) {
	s := newTestStore(t)
	s.KeepSummaries()
	sums := summaryHistory(t, s, 70)
	saveSummaries(t, s, sums)
	whole, err := os.ReadFile(s.summariesFile())
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, b []byte) {
		t.Helper()
		if err := os.WriteFile(s.summariesFile(), b, 0o644); err != nil {
			t.Fatal(err)
		}
		st := openSummaries(t, s.Root())
		for _, want := range sums {
			got, err := st.ReadSummary(want.ID)
			if err != nil || !sameSummary(got, want) {
				t.Fatalf("%s: summary of %s = %+v, %v; want %+v", what, want.ID, got, err, want)
			}
		}
	}
	for i := 0; i < len(whole); i += 1 + i/50 {
		b := append([]byte(nil), whole...)
		b[i] ^= 0x20
		check("byte "+strconv.Itoa(i)+" flipped", b)
	}
	for _, n := range []int{0, 5, len(summariesMagic) + 3, len(summariesMagic) + 4 + 1024, len(whole) / 2, len(whole) - 1} {
		check("cut at "+strconv.Itoa(n), whole[:n])
	}
}

// TestSaveSummariesWaitsForEnough: a walk that read fewer than 64
// commits the cache lacks does not rewrite it; one that read 64 does,
// and keeps what the file had.
func TestSaveSummariesWaitsForEnough(t *testing.T) {
	s := newTestStore(t)
	sums := summaryHistory(t, s, 134)
	cached := func() int {
		t.Helper()
		st := openSummaries(t, s.Root())
		return st.summaryFile().n
	}
	walk := func(part []Summary) {
		t.Helper()
		st := openSummaries(t, s.Root())
		saveSummaries(t, st, part)
	}
	walk(sums[:10])
	if _, err := os.Stat(s.summariesFile()); !os.IsNotExist(err) {
		t.Fatalf("a walk of 10 wrote the cache: %v", err)
	}
	walk(sums[:70])
	if n := cached(); n != 70 {
		t.Fatalf("cache holds %d after a walk of 70", n)
	}
	walk(sums[30:90]) // 20 new
	if n := cached(); n != 70 {
		t.Fatalf("a walk of 20 new rewrote the cache to %d", n)
	}
	walk(sums[70:]) // 64 new
	if n := cached(); n != 134 {
		t.Fatalf("cache holds %d after 64 new, want 134", n)
	}
}

// TestSaveSummariesRewrite: a rewrite keeps the file's sound records as
// they were, holds a commit read twice once, and gives what this store
// read from the blob over what the journal and the file say, and what
// the journal says over what the file says; encoded by one goroutine or
// two.
func TestSaveSummariesRewrite(t *testing.T) {
	for _, from := range []int{parallelEncodeFrom, 2} {
		t.Run(strconv.Itoa(from), func(t *testing.T) {
			defer func(was int) { parallelEncodeFrom = was }(parallelEncodeFrom)
			parallelEncodeFrom = from
			testSaveSummariesRewrite(t)
		})
	}
}

func testSaveSummariesRewrite(t *testing.T) {
	s := newTestStore(t)
	sums := summaryHistory(t, s, 200) // 150 on in the journal
	forge := func(sum Summary) Summary {
		sum.Message = "not what it said"
		return sum
	}
	old := map[digest.Digest]Summary{}
	for _, sum := range append(sums[:70:70], sums[150:160]...) {
		old[sum.ID] = forge(sum) // all but those read or in the journal set right below
	}
	for _, sum := range sums[10:70] {
		old[sum.ID] = sum
	}
	writeSummaryFile(t, s, old)
	st := openSummaries(t, s.Root())
	st.summaryFile()
	st.summaries.journal = map[digest.Digest]Summary{sums[145].ID: forge(sums[145])} // read below
	for _, sum := range sums[150:] {
		st.summaries.journal[sum.ID] = sum
	}
	for _, sum := range append(sums[:10:10], sums[70:150]...) {
		st.noteSummary(sum)
	}
	st.noteSummary(sums[100])
	if err := st.SaveSummaries(); err != nil {
		t.Fatal(err)
	}
	again := openSummaries(t, s.Root())
	if n := again.summaryFile().n; n != len(sums) {
		t.Fatalf("the cache holds %d entries, want %d", n, len(sums))
	}
	for _, want := range sums {
		got, ok := again.summaryFile().lookup(want.ID)
		if !ok || !sameSummary(got, want) {
			t.Fatalf("entry of %s = %+v, %v; want %+v", want.ID, got, ok, want)
		}
	}
}

// importedSummary writes a commit whose manifest has no strata
// annotations (an image strata did not commit): its summary comes from
// the config.
func importedSummary(t *testing.T, s *Store) Summary {
	t.Helper()
	c, err := s.WriteCommit(NewCommit{Author: "x", Date: time.Date(2020, 2, 2, 0, 0, 0, 0, time.UTC), Message: "imported", OS: "linux", Architecture: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.ReadManifest(c.ID)
	if err != nil {
		t.Fatal(err)
	}
	m.Annotations = map[string]string{"k": "v"}
	desc, err := s.PutJSON(ocispec.MediaTypeImageManifest, m)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := s.readSummary(desc.Digest)
	if err != nil || sum.Message != "imported" {
		t.Fatalf("summary of an imported image: %+v, %v", sum, err)
	}
	return sum
}

// TestSummaryCacheCutUnderItsMapping: a cache file truncated in place
// while a store has it mapped (strata replaces it whole; something else
// did this) faults on access: the lookup passes over it for the blob
// instead of crashing.
func TestSummaryCacheCutUnderItsMapping(t *testing.T) {
	s := newTestStore(t)
	s.KeepSummaries()
	sums := summaryHistory(t, s, 70)
	saveSummaries(t, s, sums)
	st := openSummaries(t, s.Root())
	if _, err := st.ReadSummary(sums[0].ID); err != nil || st.summaryFile().data == nil {
		t.Fatalf("cache not mapped: %v", err)
	}
	if err := os.Truncate(s.summariesFile(), 0); err != nil {
		t.Fatal(err)
	}
	if got := st.DifferingSummaries(func(digest.Digest) bool { return false }); len(got) != 0 {
		t.Fatalf("DifferingSummaries of a cut file: %v", got)
	}
	for _, want := range sums {
		got, err := st.ReadSummary(want.ID)
		if err != nil || !sameSummary(got, want) {
			t.Fatalf("summary of %s = %+v, %v; want %+v", want.ID, got, err, want)
		}
	}
	// Every summary was read from a blob, past the threshold: the save
	// reads the old entries through the mapping too.
	if err := st.SaveSummaries(); err != nil {
		t.Fatal(err)
	}
	if n := st.summaryFile().n; n != 70 {
		t.Fatalf("mapped view = %d", n)
	}
}

// TestSummaryCacheOnlyWhereKept: a store that did not turn the cache on
// (a layout a remote or a container holds) neither writes one nor
// believes one it finds: a spoilt manifest is read, and refused.
func TestSummaryCacheOnlyWhereKept(t *testing.T) {
	s := newTestStore(t)
	sums := summaryHistory(t, s, 70)
	saveSummaries(t, s, sums)
	if _, err := os.Stat(s.summariesFile()); !os.IsNotExist(err) {
		t.Fatalf("a store without the cache wrote one: %v", err)
	}
	saveSummaries(t, openSummaries(t, s.Root()), sums)
	layout, err := Open(s.Root())
	if err != nil {
		t.Fatal(err)
	}
	spoilt := sums[3].ID
	spoil(t, layout, spoilt)
	if _, err := layout.ReadSummary(spoilt); !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("a spoilt manifest read from a store without the cache: %v", err)
	}
}

// TestSummaryCacheThatIsNoFile: a FIFO or a link where the cache goes is
// passed over, without blocking or following it.
func TestSummaryCacheThatIsNoFile(t *testing.T) {
	s := newTestStore(t)
	sums := summaryHistory(t, s, 3)
	if err := os.MkdirAll(filepath.Dir(s.summariesFile()), 0o755); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(t.TempDir(), "summaries")
	for _, plant := range []func() error{
		func() error { return unix.Mkfifo(s.summariesFile(), 0o644) },
		func() error { return os.Symlink(good, s.summariesFile()) },
	} {
		os.Remove(s.summariesFile())
		if err := plant(); err != nil {
			t.Fatal(err)
		}
		st := openSummaries(t, s.Root())
		for _, want := range sums {
			if got, err := st.ReadSummary(want.ID); err != nil || !sameSummary(got, want) {
				t.Fatalf("%+v, %v", got, err)
			}
		}
		if st.summaryFile().data != nil {
			t.Fatal("mapped what is no regular file")
		}
	}
}

// differsOnly checks that SummaryDiffers, given each commit's manifest
// head as fsck reads it, finds the entry of forged alone of sums.
func differsOnly(t *testing.T, st *Store, sums []Summary, forged digest.Digest) {
	t.Helper()
	for _, sum := range sums {
		m, err := st.ReadManifestHead(sum.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.SummaryDiffers(sum.ID, m); got != (sum.ID == forged) {
			t.Errorf("SummaryDiffers(%s) = %v", sum.ID, got)
		}
	}
}

// TestCheckSummariesFindsAForgedEntry: an entry whose CRC holds but
// whose summary is not its commit's (a strata with a bug wrote it) is
// believed by log, and found by fsck's check (SummaryDiffers); a file
// that is no cache is ErrBadSummaries.
func TestCheckSummariesFindsAForgedEntry(t *testing.T) {
	s := newTestStore(t)
	s.KeepSummaries()
	sums := summaryHistory(t, s, 5)
	all := map[digest.Digest]Summary{}
	for _, sum := range sums {
		all[sum.ID] = sum
	}
	forged := sums[2]
	forged.Message = "not what it said"
	all[forged.ID] = forged
	writeSummaryFile(t, s, all)
	st := openSummaries(t, s.Root())
	if got, _ := st.ReadSummary(forged.ID); got.Message != forged.Message {
		t.Fatalf("the forged entry was not read: %+v", got)
	}
	differsOnly(t, st, sums, forged.ID)
	if err := st.CheckSummariesFile(); err != nil {
		t.Fatalf("CheckSummariesFile of a cache: %v", err)
	}
	if err := os.WriteFile(s.summariesFile(), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := openSummaries(t, s.Root()).CheckSummariesFile(); !errors.Is(err, ErrBadSummaries) {
		t.Fatalf("CheckSummariesFile of garbage: %v", err)
	}
}

// TestSummaryFileHasAsLookup: has, which does not decode a record, says
// what lookup says of every commit, whatever byte of the file is changed.
func TestSummaryFileHasAsLookup(t *testing.T) {
	s := newTestStore(t)
	sums := summaryHistory(t, s, 70)
	saveSummaries(t, openSummaries(t, s.Root()), sums)
	whole, err := os.ReadFile(s.summariesFile())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(whole); i += 1 + i/200 {
		b := append([]byte(nil), whole...)
		b[i] ^= 0x20
		if err := os.WriteFile(s.summariesFile(), b, 0o644); err != nil {
			t.Fatal(err)
		}
		f := openSummaries(t, s.Root()).summaryFile()
		for _, sum := range sums {
			found := false
			if f.data != nil { // as lookupSummary asks it
				_, found = f.lookup(sum.ID)
			}
			if has := f.has(sum.ID); has != found {
				t.Fatalf("byte %d flipped: has(%s) = %v, lookup found it: %v", i, sum.ID, has, found)
			}
		}
	}
}

// encodeSummaries is the cache file holding sums, as SaveSummaries
// writes it.
func encodeSummaries(sums map[digest.Digest]Summary) ([]byte, error) {
	var noted notedSummaries
	for _, sum := range sums {
		noted.add(sum)
	}
	b := cacheBuild{noted: &noted}
	b.addNoted()
	return b.encode()
}

// writeSummaryFile writes sums as s's summary cache file.
func writeSummaryFile(t *testing.T, s *Store, sums map[digest.Digest]Summary) {
	t.Helper()
	b, err := encodeSummaries(sums)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(s.summariesFile()), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.summariesFile(), b, 0o644); err != nil {
		t.Fatal(err)
	}
}
