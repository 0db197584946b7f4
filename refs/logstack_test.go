package refs

import (
	"errors"
	"testing"

	"github.com/opencontainers/go-digest"
)

// TestDropEntry: the reflog is a stack whose top the ref names. Dropping
// the top moves the ref to the next; dropping below leaves it; an entry
// that no longer names the commit the caller saw is not dropped; the
// last one takes the ref with it.
func TestDropEntry(t *testing.T) {
	s := Open(t.TempDir())
	ids := []digest.Digest{digest.FromString("a"), digest.FromString("b"), digest.FromString("c")}
	for _, id := range ids {
		if err := s.Update(Stash, id, Any, "push "+id.Encoded()[:4]); err != nil {
			t.Fatal(err)
		}
	}
	// The stack, newest first: c, b, a.
	if _, err := s.DropEntry(Stash, 1, ids[0]); !errors.Is(err, ErrStale) {
		t.Fatalf("entry 1 names b, dropped as a: %v", err)
	}
	if e, err := s.DropEntry(Stash, 1, ids[1]); err != nil || e.New != ids[1] {
		t.Fatalf("drop 1: %v, %v", e, err)
	}
	if d, _ := s.Read(Stash); d != ids[2] {
		t.Fatalf("ref moved by dropping below the top: %s", d)
	}
	if _, err := s.DropEntry(Stash, 0, ""); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Read(Stash); d != ids[0] {
		t.Fatalf("ref after dropping the top: %s, want a", d)
	}
	if _, err := s.DropEntry(Stash, 1, ""); !errors.Is(err, ErrNoEntry) {
		t.Fatalf("drop past the end: %v", err)
	}
	if _, err := s.DropEntry(Stash, 0, ""); err != nil {
		t.Fatal(err)
	}
	if s.Exists(Stash) {
		t.Fatal("the ref outlived its last entry")
	}
	if l, _ := s.Log(Stash); len(l) != 0 {
		t.Fatalf("%d entries left", len(l))
	}
}
