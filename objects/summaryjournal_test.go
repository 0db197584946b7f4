package objects

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"
)

// readAllSummaries checks that st gives every summary in sums.
func readAllSummaries(t *testing.T, what string, st *Store, sums []Summary) {
	t.Helper()
	for _, want := range sums {
		got, err := st.ReadSummary(want.ID)
		if err != nil || !sameSummary(got, want) {
			t.Fatalf("%s: summary of %s = %+v, %v; want %+v", what, want.ID, got, err, want)
		}
	}
}

// TestSummaryJournalGivesCommitsMadeHere: the commits a store that keeps
// summaries writes are given by the next store from the journal, before
// any walk saved them, without reading their manifests (overwritten with
// garbage here).
func TestSummaryJournalGivesCommitsMadeHere(t *testing.T) {
	s := newTestStore(t)
	s.KeepSummaries()
	sums := summaryHistory(t, s, 40)
	if _, err := os.Stat(s.summariesFile()); !os.IsNotExist(err) {
		t.Fatalf("commits wrote the cache file: %v", err)
	}
	again := openSummaries(t, s.Root())
	for _, sum := range sums {
		spoil(t, again, sum.ID)
	}
	readAllSummaries(t, "from the journal", again, sums)
}

// TestSummaryJournalFoldedByLog: a walk's save folds the journal into
// the cache file once it holds 64 commits the file lacks, and removes it;
// before that the journal stays.
func TestSummaryJournalFoldedByLog(t *testing.T) {
	few := newTestStore(t)
	few.KeepSummaries()
	summaryHistory(t, few, 63)
	if err := openSummaries(t, few.Root()).SaveSummaries(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(few.summariesFile()); !os.IsNotExist(err) {
		t.Fatalf("63 journal entries rewrote the cache file: %v", err)
	}
	if _, err := os.Stat(few.summaryJournal()); err != nil {
		t.Fatalf("the journal of 63 entries: %v", err)
	}

	s := newTestStore(t)
	s.KeepSummaries()
	sums := summaryHistory(t, s, 64)
	if err := openSummaries(t, s.Root()).SaveSummaries(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.summaryJournal()); !os.IsNotExist(err) {
		t.Fatalf("the journal stayed after it was folded: %v", err)
	}
	st := openSummaries(t, s.Root())
	if n := st.summaryFile().n; n != 64 {
		t.Fatalf("cache file holds %d, want 64", n)
	}
	for _, sum := range sums {
		spoil(t, st, sum.ID)
	}
	readAllSummaries(t, "from the folded file", st, sums)
}

// TestSummaryJournalKeptWhenItGrew: a journal a commit appended to after
// the walk read it is not removed with what the walk read of it.
func TestSummaryJournalKeptWhenItGrew(t *testing.T) {
	s := newTestStore(t)
	s.KeepSummaries()
	summaryHistory(t, s, 64)
	st := openSummaries(t, s.Root())
	st.summaryFile() // reads the journal
	c, err := s.WriteCommit(NewCommit{Author: "A <a@example.com>", Message: "late", Date: time.Unix(1, 0), OS: "linux", Architecture: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := s.readSummary(c.ID)
	if err != nil {
		t.Fatal(err)
	}
	late := []Summary{sum}
	if err := st.SaveSummaries(); err != nil {
		t.Fatal(err)
	}
	again := openSummaries(t, s.Root())
	spoil(t, again, late[0].ID)
	readAllSummaries(t, "appended after the walk read the journal", again, late)
}

// TestSummaryJournalSurvivesDamage: whatever byte of the journal is
// changed, and wherever it is cut (a torn append), every summary is
// still what the blobs say: an entry that does not hold, and those after
// it, are passed over for the blobs.
func TestSummaryJournalSurvivesDamage(t *testing.T) {
	s := newTestStore(t)
	s.KeepSummaries()
	sums := summaryHistory(t, s, 12)
	whole, err := os.ReadFile(s.summaryJournal())
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, b []byte) {
		t.Helper()
		if err := os.WriteFile(s.summaryJournal(), b, 0o644); err != nil {
			t.Fatal(err)
		}
		readAllSummaries(t, what, openSummaries(t, s.Root()), sums)
	}
	for i := 0; i < len(whole); i += 1 + i/40 {
		b := append([]byte(nil), whole...)
		b[i] ^= 0x20
		check("byte "+strconv.Itoa(i)+" flipped", b)
	}
	for n := 0; n < len(whole); n += 1 + n/20 {
		check("cut at "+strconv.Itoa(n), whole[:n])
	}
}

// TestSummaryJournalThatIsNoFile: a link or a FIFO where the journal
// goes is neither followed nor blocked on, by a commit or a walk.
func TestSummaryJournalThatIsNoFile(t *testing.T) {
	s := newTestStore(t)
	s.KeepSummaries()
	if err := os.MkdirAll(filepath.Dir(s.summaryJournal()), 0o755); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(t.TempDir(), "outside")
	if err := os.WriteFile(outside, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, plant := range []func() error{
		func() error { return unix.Mkfifo(s.summaryJournal(), 0o644) },
		func() error { return os.Symlink(outside, s.summaryJournal()) },
	} {
		os.Remove(s.summaryJournal())
		if err := plant(); err != nil {
			t.Fatal(err)
		}
		sums := summaryHistory(t, s, 2)
		readAllSummaries(t, "beside a planted journal", openSummaries(t, s.Root()), sums)
	}
	if b, err := os.ReadFile(outside); err != nil || len(b) != 0 {
		t.Fatalf("the link's target was written: %q, %v", b, err)
	}
}

// TestCheckSummariesFindsAForgedJournalEntry: fsck's check compares the
// journal's entries too: log believes them as it believes the file's.
func TestCheckSummariesFindsAForgedJournalEntry(t *testing.T) {
	s := newTestStore(t)
	sums := summaryHistory(t, s, 4) // the cache off: no journal
	forged := sums[1]
	forged.Author = "Someone Else <x@example.com>"
	var b []byte
	for _, sum := range append([]Summary{forged}, sums[2:]...) {
		var err error
		if b, err = appendJournalEntry(b, sum); err != nil {
			t.Fatal(err)
		}
	}
	if err := appendJournal(s.summaryJournal(), b); err != nil {
		t.Fatal(err)
	}
	st := openSummaries(t, s.Root())
	differsOnly(t, st, sums, forged.ID)
	// What fsck's walk did not reach, it checks through DifferingSummaries.
	if got := st.DifferingSummaries(func(digest.Digest) bool { return false }); !slices.Equal(got, []digest.Digest{forged.ID}) {
		t.Errorf("DifferingSummaries = %v, want %s", got, forged.ID)
	}
	if got := st.DifferingSummaries(func(id digest.Digest) bool { return id == forged.ID }); len(got) != 0 {
		t.Errorf("DifferingSummaries of the commits not passed over = %v", got)
	}
}

// BenchmarkSaveSummariesJournalInFile: a log after one that folded the
// journal, when the journal was written again (a commit ran alongside):
// SaveSummaries asks the file of each journal entry whether it has it.
func BenchmarkSaveSummariesJournalInFile(b *testing.B) {
	s := newTestStore(b)
	s.KeepSummaries()
	summaryHistory(b, s, 300)
	journal, err := os.ReadFile(s.summaryJournal())
	if err != nil {
		b.Fatal(err)
	}
	if err := openSummaries(b, s.Root()).SaveSummaries(); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(s.summaryJournal(), journal, 0o644); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		st := openSummaries(b, s.Root())
		if st.summaryFile().n != 300 || len(st.summaries.journal) != 300 {
			b.Fatalf("file %d, journal %d; want 300 each", st.summaryFile().n, len(st.summaries.journal))
		}
		b.StartTimer()
		if err := st.SaveSummaries(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSaveSummariesCold: the first log of 10,000 commits after the
// cache was deleted, as it ends: every summary it read is new.
func BenchmarkSaveSummariesCold(b *testing.B) {
	s := newTestStore(b)
	date := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var sums []Summary
	for i := range 10000 {
		id := digest.FromString(strconv.Itoa(i))
		sums = append(sums, Summary{ID: id, Parent: digest.FromString(strconv.Itoa(i + 1)), Author: "A <a@example.com>", Date: date, Message: "commit " + strconv.Itoa(i)})
	}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		os.Remove(s.summariesFile())
		st := openSummaries(b, s.Root())
		for _, sum := range sums {
			st.noteSummary(sum)
		}
		b.StartTimer()
		if err := st.SaveSummaries(); err != nil {
			b.Fatal(err)
		}
	}
}
