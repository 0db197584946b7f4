package remote

import (
	"context"
	"errors"
	"testing"

	"github.com/strata-sh/strata/internal/testregistry"
	"github.com/strata-sh/strata/refs"
)

// TestDeleteRegistry deletes tags from a real docker-registry (with
// storage.delete.enabled): a tag alone on its commit goes; a tag whose
// manifest another tag shares, or whose commit is in another tag's
// history, is refused and the other tag keeps working.
func TestDeleteRegistry(t *testing.T) {
	ctx := context.Background()
	reg := testregistry.Start(t)
	a := newRepo(t)
	base := commitFile(t, a, "main", "etc/a", "a")
	if err := a.Refs.Update(refs.Heads+"same", base, "", "test"); err != nil {
		t.Fatal(err)
	}
	commitFile(t, a, "main", "etc/b", "b")
	commitFile(t, a, "side", "etc/c", "c") // a root of its own
	side := commitFile(t, a, "side", "etc/d", "d")
	s := connect(t, a, "origin", reg.Repo("del"), Options{})
	for _, b := range []string{"main", "same", "side"} {
		if _, err := s.Push(ctx, a, refs.Heads+b, PushOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// same names main's parent: deleting its manifest would cut main's history.
	if _, err := s.Delete(ctx, a, "same"); !errors.Is(err, ErrDeleteRefused) {
		t.Fatalf("delete same (in main's history): %v, want ErrDeleteRefused", err)
	}
	if _, err := s.Delete(ctx, a, "side"); err != nil {
		t.Fatalf("delete side: %v", err)
	}
	if a.Refs.Exists(refs.Remotes + "origin/side") {
		t.Error("origin/side is still there after delete")
	}
	tags, err := s.t.tags(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, tg := range tags {
		got[tg] = true
	}
	if got["side"] || !got["main"] || !got["same"] {
		t.Fatalf("tags after delete: %v, want main and same, not side", tags)
	}
	// side's ancestor list went with it; main's stays.
	mainTip, _ := a.Refs.Read(refs.Heads + "main")
	if got[ancestorsTag(side)] || !got[ancestorsTag(mainTip)] {
		t.Fatalf("tags after delete: %v, want %s and not %s", tags, ancestorsTag(mainTip), ancestorsTag(side))
	}
	// Two tags on one commit: deleting either would delete both.
	if err := a.Refs.Update(refs.Heads+"twin", base, "", "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Push(ctx, a, refs.Heads+"twin", PushOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete(ctx, a, "twin"); !errors.Is(err, ErrDeleteRefused) {
		t.Fatalf("delete twin (shares same's manifest): %v, want ErrDeleteRefused", err)
	}
	if _, err := s.t.headManifest(ctx, "same"); err != nil {
		t.Fatalf("same after a refused delete of twin: %v", err)
	}
	// fetch --prune from another clone drops the deleted tag's ref.
	b := newRepo(t)
	sb := connect(t, b, "origin", reg.Repo("del"), Options{})
	if err := b.Refs.Update(refs.Remotes+"origin/side", base, "", "stale"); err != nil {
		t.Fatal(err)
	}
	pruned, err := sb.Prune(ctx, b, false)
	if err != nil || len(pruned) != 1 || pruned[0].Tag != "side" {
		t.Fatalf("prune: %v %v, want side", pruned, err)
	}
}
