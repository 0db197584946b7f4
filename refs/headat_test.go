package refs

import (
	"errors"
	"testing"
)

// TestSetHeadBranchAt: HEAD moves to a branch only if the branch is still
// where the switch found it: deleted or moved meanwhile (a branch -D
// racing a switch), HEAD stays where it was.
func TestSetHeadBranchAt(t *testing.T) {
	s := newStore(t)
	c1, c2 := mkdigest("aaaa1"), mkdigest("aaaa2")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.Update("refs/heads/main", c1, "", "init"))
	must(s.Update("refs/heads/b", c1, "", "branch"))
	must(s.SetHeadBranchAt("refs/heads/b", c1, "checkout: to b"))
	if h, _ := s.ReadHead(); h.Branch != "refs/heads/b" {
		t.Fatalf("HEAD %+v, want on b", h)
	}
	must(s.SetHeadBranchAt("refs/heads/main", c1, "checkout: to main"))
	must(s.Delete("refs/heads/b", c1, "branch -D"))
	if err := s.SetHeadBranchAt("refs/heads/b", c1, "checkout: to b"); !errors.Is(err, ErrStale) {
		t.Fatalf("HEAD to a deleted branch: %v, want ErrStale", err)
	}
	must(s.Update("refs/heads/b", c2, "", "branch again, elsewhere"))
	if err := s.SetHeadBranchAt("refs/heads/b", c1, "checkout: to b"); !errors.Is(err, ErrStale) {
		t.Fatalf("HEAD to a moved branch: %v, want ErrStale", err)
	}
	if h, _ := s.ReadHead(); h.Branch != "refs/heads/main" {
		t.Fatalf("HEAD %+v after refused moves, want still on main", h)
	}
	// An unborn branch: HEAD may name it while it does not exist.
	must(s.SetHeadBranchAt("refs/heads/new", "", "checkout: unborn"))
}
