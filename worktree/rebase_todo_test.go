package worktree

import (
	"errors"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/objects"
)

// TestRebaseTodo: a rebase lists what the upstream lacks through both
// parents of a merge, parents first (first-parent line before second),
// and leaves the merges out, counting them.
func TestRebaseTodo(t *testing.T) {
	r := newRepo(t)
	w := &Worktree{Repo: r}
	names := map[digest.Digest]string{}
	mk := func(msg string, parent *objects.Commit, merge *objects.Commit) *objects.Commit {
		t.Helper()
		nc := objects.NewCommit{Parent: parent, Author: "T <t@example.com>", Date: time.Unix(1700000000, 0),
			Message: msg, OS: "linux", Architecture: "amd64"}
		if merge != nil {
			nc.MergeParent = merge.ID
		}
		c, err := r.Objects.WriteCommit(nc)
		if err != nil {
			t.Fatal(err)
		}
		names[c.ID] = msg
		return c
	}
	b := mk("base", nil, nil)
	a1 := mk("a1", b, nil)
	f1 := mk("f1", b, nil)
	f2 := mk("f2", f1, nil)
	m := mk("merge f", a1, f2)
	g1 := mk("g1", a1, nil)
	m2 := mk("merge g", m, g1) // g1's parent a1 is already listed
	a3 := mk("a3", m2, nil)
	up := mk("upstream", b, nil)
	upf := mk("upstream with f1", f1, nil)

	for _, tc := range []struct {
		name     string
		upstream *objects.Commit
		want     []string
		merges   int
	}{
		{"both sides", up, []string{"a1", "f1", "f2", "g1", "a3"}, 2},
		{"upstream has f1", upf, []string{"a1", "f2", "g1", "a3"}, 2},
		{"upstream is the merge", m, []string{"g1", "a3"}, 1},
		{"upstream is the tip", a3, nil, 0},
		{"unrelated upstream", mk("other root", nil, nil), []string{"base", "a1", "f1", "f2", "g1", "a3"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			todo, merges, err := w.rebaseTodo(a3.ID, tc.upstream.ID)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, id := range todo {
				got = append(got, names[id])
			}
			if len(got) != len(tc.want) || merges != tc.merges {
				t.Fatalf("todo %v, %d merges; want %v, %d", got, merges, tc.want, tc.merges)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("todo %v; want %v", got, tc.want)
				}
			}
		})
	}
}

// TestCheckMainline: -m is needed for a merge and refused for any other
// commit; it picks the parent the change is taken against.
func TestCheckMainline(t *testing.T) {
	r := newRepo(t)
	mk := func(msg string, parent, merge *objects.Commit) *objects.Commit {
		nc := objects.NewCommit{Parent: parent, Message: msg, OS: "linux", Architecture: "amd64"}
		if merge != nil {
			nc.MergeParent = merge.ID
		}
		c, err := r.Objects.WriteCommit(nc)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	b := mk("base", nil, nil)
	a := mk("a", b, nil)
	f := mk("f", b, nil)
	m := mk("merge", a, f)
	if err := checkMainline(m, 0); !errors.Is(err, ErrMergeNoMainline) {
		t.Errorf("merge without -m: %v", err)
	}
	if err := checkMainline(a, 1); !errors.Is(err, ErrNotMerge) {
		t.Errorf("-m 1 on a non-merge: %v", err)
	}
	if err := checkMainline(m, 3); err == nil {
		t.Errorf("-m 3 on a merge: accepted")
	}
	for n, want := range map[int]digest.Digest{1: a.ID, 2: f.ID} {
		if err := checkMainline(m, n); err != nil {
			t.Errorf("-m %d: %v", n, err)
		}
		if got := mainlineParent(m, n); got != want {
			t.Errorf("-m %d: parent %s, want %s", n, got, want)
		}
	}
	if err := checkMainline(a, 0); err != nil {
		t.Errorf("a non-merge without -m: %v", err)
	}
}
