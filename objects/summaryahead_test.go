package objects

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// TestPendingSummaryIsReadSummary: for every commit of a history (merges,
// an imported image whose summary is in its config), from the blobs and
// then from the cache, VerifySummary gives what ReadSummary gives, and
// Parent what the commit's first parent is.
func TestPendingSummaryIsReadSummary(t *testing.T) {
	s := newTestStore(t)
	s.KeepSummaries()
	sums := append(summaryHistory(t, s, 60), importedSummary(t, s))
	for round, store := range []*Store{s, nil} {
		if store == nil {
			saveSummaries(t, s, sums)
			store = openSummaries(t, s.Root())
		}
		for _, want := range sums {
			p := store.ReadPendingSummary(want.ID)
			if !p.Read() || p.Parent() != want.Parent {
				t.Fatalf("round %d: pending %s: read %v, parent %s; want parent %s", round, want.ID, p.Read(), p.Parent(), want.Parent)
			}
			got, err := store.VerifySummary(p)
			if err != nil || !sameSummary(got, want) {
				t.Fatalf("round %d: verified %s = %+v, %v; want %+v", round, want.ID, got, err, want)
			}
		}
	}
}

// TestPendingSummaryOfAForgedManifest: a manifest replaced by another
// commit's bytes (valid, with a parent of its own) is read ahead as what
// it says, but VerifySummary refuses it: the digest does not match.
func TestPendingSummaryOfAForgedManifest(t *testing.T) {
	s := newTestStore(t)
	sums := summaryHistory(t, s, 10)
	victim, forger := sums[8], sums[3]
	b, err := os.ReadFile(s.BlobPath(forger.ID))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(s.BlobPath(victim.ID), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.BlobPath(victim.ID), b, 0o644); err != nil {
		t.Fatal(err)
	}
	p := s.ReadPendingSummary(victim.ID)
	if p.Parent() != forger.Parent {
		t.Fatalf("read ahead: parent %s, want the forged %s", p.Parent(), forger.Parent)
	}
	if got, err := s.VerifySummary(p); !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("verified a forged manifest: %+v, %v; want ErrDigestMismatch", got, err)
	}
}

// TestPendingSummaryOfAMissingOrSpoiltCommit: a commit whose blob is
// gone is not Read and VerifySummary says ErrNotFound; one spoilt into
// no manifest at all is refused as ReadSummary refuses it.
func TestPendingSummaryOfAMissingOrSpoiltCommit(t *testing.T) {
	s := newTestStore(t)
	sums := summaryHistory(t, s, 5)
	if err := s.Delete(sums[1].ID); err != nil {
		t.Fatal(err)
	}
	p := s.ReadPendingSummary(sums[1].ID)
	if p.Read() {
		t.Fatal("a removed commit was read")
	}
	if _, err := s.VerifySummary(p); !errors.Is(err, ErrNotFound) {
		t.Fatalf("removed commit: %v, want ErrNotFound", err)
	}
	spoil(t, s, sums[3].ID)
	_, want := s.ReadSummary(sums[3].ID)
	if want == nil {
		t.Fatal("ReadSummary took a spoilt manifest")
	}
	if _, err := s.VerifySummary(s.ReadPendingSummary(sums[3].ID)); err == nil || err.Error() != want.Error() {
		t.Fatalf("spoilt commit: %v, want %v", err, want)
	}
}

// TestPendingSummaryLarge: a manifest over 64 KiB (a long message in its
// annotations) is Large, one strata writes for a short message is not,
// and both verify.
func TestPendingSummaryLarge(t *testing.T) {
	s := newTestStore(t)
	small, err := s.WriteCommit(NewCommit{Author: "A <a@x>", Message: "m"})
	if err != nil {
		t.Fatal(err)
	}
	large, err := s.WriteCommit(NewCommit{Parent: small, Author: "A <a@x>", Message: string(make([]byte, 70<<10))})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		c     *Commit
		large bool
	}{{small, false}, {large, true}} {
		p := s.ReadPendingSummary(tc.c.ID)
		if p.Large() != tc.large {
			t.Errorf("%s: Large() = %v, want %v", tc.c.ID, p.Large(), tc.large)
		}
		if _, err := s.VerifySummary(p); err != nil {
			t.Error(err)
		}
	}
}

// TestPendingSummaryParentFarFromTheEnd: the reader looks for the parent
// in a manifest's tail; a commit's own annotations sorted after it (here
// 2 KB of them) push it out of there, and the whole manifest is read for
// it, so that a walk still reads ahead by the right parent.
func TestPendingSummaryParentFarFromTheEnd(t *testing.T) {
	s := newTestStore(t)
	root, err := s.WriteCommit(NewCommit{Author: "A <a@x>", Message: "root"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.WriteCommit(NewCommit{Parent: root, Author: "A <a@x>", Message: "child",
		Annotations: map[string]string{"org.opencontainers.image.title": strings.Repeat("t", 2000)}})
	if err != nil {
		t.Fatal(err)
	}
	p := s.ReadPendingSummary(c.ID)
	if p.Parent() != root.ID {
		t.Fatalf("read ahead: parent %q, want %s", p.Parent(), root.ID)
	}
	if sum, err := s.VerifySummary(p); err != nil || sum.Parent != root.ID {
		t.Fatalf("verified: %+v, %v", sum, err)
	}
}
