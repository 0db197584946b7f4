package refs

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/strata-sh/strata/internal/lockfile"
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

// TestDeleteIf: the check runs under the refs lock, and its error leaves
// the ref where it was.
func TestDeleteIf(t *testing.T) {
	s := newStore(t)
	c1 := mkdigest("aaaa1")
	if err := s.Update("refs/heads/b", c1, "", "branch"); err != nil {
		t.Fatal(err)
	}
	inUse := errors.New("checked out in env2")
	if err := s.DeleteIf("refs/heads/b", c1, "branch -D", func() error {
		// The lock is held: another move must not get it meanwhile.
		if l, err := lockfile.Try(filepath.Join(s.root, RefsLockFile)); err != nil || l != nil {
			if l != nil {
				l.Release()
			}
			t.Errorf("the refs lock was free while the check ran (%v)", err)
		}
		return inUse
	}); !errors.Is(err, inUse) {
		t.Fatalf("DeleteIf with a failing check: %v", err)
	}
	if d, err := s.Read("refs/heads/b"); err != nil || d != c1 {
		t.Fatalf("b after a refused delete: %v, %v", d, err)
	}
	if err := s.DeleteIf("refs/heads/b", c1, "branch -D", func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Read("refs/heads/b"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("b after DeleteIf: %v, want ErrNotFound", err)
	}
}
