package refs

import (
	"errors"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

// TestUpstream: BRANCH@{upstream}, @{u} and BRANCH@{push} are the
// remote-tracking ref UpstreamOf names, which must exist.
func TestUpstream(t *testing.T) {
	s := newStore(t)
	c1, c2, c3 := mkdigest("aaaa1"), mkdigest("bbbb2"), mkdigest("cccc3")
	objs := fakeCommits{c1: "", c2: c1, c3: c1}
	for ref, d := range map[string]digest.Digest{Heads + "main": c1, Heads + "dev": c1, Heads + "lone": c1, Heads + "unmapped": c1, Heads + "orphan": c1, Heads + "left": c1,
		Remotes + "origin/main": c2, Remotes + "up/dev": c3} {
		if err := s.Update(ref, d, "", "test"); err != nil {
			t.Fatal(err)
		}
	}
	s.UpstreamOf = func(b string, push bool) (Tracked, error) {
		switch b {
		case "dev":
			return Tracked{Remote: "up", Ref: Remotes + "up/dev"}, nil
		case "unmapped":
			return Tracked{Remote: "origin"}, errors.New("upstream branch 'refs/heads/unmapped' not stored as a remote-tracking branch")
		case "orphan":
			return Tracked{Remote: "gone", Ref: Remotes + "gone/orphan", NoRemote: true}, nil
		case "left":
			return Tracked{Remote: "origin", Ref: Remotes + "origin/left", Set: true}, nil
		}
		return Tracked{Remote: "origin", Ref: Remotes + "origin/" + b}, nil
	}
	for rev, want := range map[string]string{"@{u}": c2.String(), "@{upstream}": c2.String(), "HEAD@{U}": c2.String(),
		"main@{u}": c2.String(), "dev@{upstream}": c3.String(), "dev@{u}~1": c1.String(), "refs/heads/dev@{u}": c3.String(),
		"@{push}": c2.String(), "dev@{PUSH}": c3.String()} {
		if d, err := s.Resolve(rev, objs); err != nil || d.String() != want {
			t.Errorf("Resolve(%s) = %s, %v; want %s", rev, d, err, want)
		}
	}
	for rev, msg := range map[string]string{
		"lone@{u}":     "no remote-tracking branch origin/lone ('strata fetch origin' makes it)",
		"left@{u}":     "the upstream origin/left is gone: no remote-tracking branch ('strata fetch origin' makes it while the remote has the branch)",
		"nosuch@{u}":   "no branch nosuch",
		"unmapped@{u}": "not stored as a remote-tracking branch",
		"orphan@{u}":   "no upstream configured for branch orphan (its remote gone is not configured",
		"@{pull}":      "@{...} takes a number",
	} {
		_, err := s.Resolve(rev, objs)
		if !errors.Is(err, ErrUnknownRevision) || !strings.Contains(err.Error(), msg) {
			t.Errorf("Resolve(%s): err = %v; want ErrUnknownRevision saying %q", rev, err, msg)
		}
	}
	if err := s.SetHeadDetached(c1, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Resolve("@{u}", objs); err == nil || !strings.Contains(err.Error(), "HEAD is detached") {
		t.Errorf("@{u} on a detached HEAD: err = %v", err)
	}
}

// TestUpstreamOfPriorCheckout: git's @{-N}@{u} and @{-N}@{push} are the
// upstream of the branch the N-th latest checkout left; a detached one
// has none, and two other selectors in a row name nothing.
func TestUpstreamOfPriorCheckout(t *testing.T) {
	s := newStore(t)
	c1, c2, c3 := mkdigest("aaaa1"), mkdigest("bbbb2"), mkdigest("cccc3")
	objs := fakeCommits{c1: "", c2: c1, c3: c1}
	for ref, d := range map[string]digest.Digest{Heads + "main": c1, Heads + "dev": c1,
		Remotes + "origin/main": c2, Remotes + "origin/dev": c3} {
		if err := s.Update(ref, d, "", "test"); err != nil {
			t.Fatal(err)
		}
	}
	s.UpstreamOf = func(b string, push bool) (Tracked, error) {
		return Tracked{Remote: "origin", Ref: Remotes + "origin/" + b}, nil
	}
	for _, step := range []struct{ branch, msg string }{
		{"main", "test"}, {"dev", "checkout: moving from main to dev"}, {"main", "checkout: moving from dev to main"}} {
		if err := s.SetHeadBranch(Heads+step.branch, step.msg); err != nil {
			t.Fatal(err)
		}
	}
	for rev, want := range map[string]digest.Digest{"@{-1}@{u}": c3, "@{-1}@{push}": c3, "@{-2}@{upstream}": c2, "@{-1}@{u}~1": c1} {
		if d, err := s.Resolve(rev, objs); err != nil || d != want {
			t.Errorf("Resolve(%s) = %s, %v; want %s", rev, d, err, want)
		}
	}
	if err := s.SetHeadDetached(c1, "checkout: moving from main to aaaa1"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetHeadBranch(Heads+"main", "checkout: moving from aaaa1 to main"); err != nil {
		t.Fatal(err)
	}
	for rev, msg := range map[string]string{
		"@{-1}@{u}":    "HEAD was detached then, on no branch",
		"@{-9}@{u}":    "no earlier checkout",
		"main@{1}@{u}": "main@{1}@{u}: unknown revision",
		"@{u}@{0}":     "@{u}@{0}: unknown revision",
	} {
		_, err := s.Resolve(rev, objs)
		if !errors.Is(err, ErrUnknownRevision) || !strings.Contains(err.Error(), msg) {
			t.Errorf("Resolve(%s): err = %v; want ErrUnknownRevision saying %q", rev, err, msg)
		}
	}
}
