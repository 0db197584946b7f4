package refs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFetchHead: FETCH_HEAD is written in git's shape, read back, and
// resolves to its first line's commit, with suffixes; appending keeps
// what was there; a linked work tree has its own; unset, empty or
// garbage, it names nothing, with a one-line error.
func TestFetchHead(t *testing.T) {
	s := newStore(t)
	c1, c2 := mkdigest("aaaa1"), mkdigest("bbbb2")
	objs := fakeCommits{c1: "", c2: c1}
	if _, err := s.Resolve("FETCH_HEAD", objs); !errors.Is(err, ErrUnknownRevision) {
		t.Fatalf("unset FETCH_HEAD: err = %v, want ErrUnknownRevision", err)
	}
	es := []FetchHeadEntry{
		{ID: c2, Desc: "branch 'main' of http://r/x"},
		{ID: c1, NotForMerge: true, Desc: "branch 'dev' of http://r/x"},
	}
	if err := s.WriteFetchHead(es, false); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(s.root, "FETCH_HEAD"))
	if err != nil {
		t.Fatal(err)
	}
	want := c2.String() + "\t\tbranch 'main' of http://r/x\n" + c1.String() + "\tnot-for-merge\tbranch 'dev' of http://r/x\n"
	if string(b) != want {
		t.Fatalf("FETCH_HEAD =\n%s\nwant\n%s", b, want)
	}
	for rev, want := range map[string]string{"FETCH_HEAD": c2.String(), "FETCH_HEAD~1": c1.String(), "FETCH_HEAD^{commit}": c2.String()} {
		if d, err := s.Resolve(rev, objs); err != nil || d.String() != want {
			t.Errorf("Resolve(%s) = %s, %v; want %s", rev, d, err, want)
		}
	}
	// git reads the first line, marked not-for-merge or not.
	if err := s.WriteFetchHead(es[1:], false); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteFetchHead(es[:1], true); err != nil {
		t.Fatal(err)
	}
	got, err := s.ReadFetchHead()
	if err != nil || len(got) != 2 || got[0] != es[1] || got[1] != es[0] {
		t.Fatalf("appended FETCH_HEAD = %v, %v; want %v", got, err, []FetchHeadEntry{es[1], es[0]})
	}
	if d, err := s.Resolve("FETCH_HEAD", objs); err != nil || d != c1 {
		t.Fatalf("FETCH_HEAD = %s, %v; want its first line, %s", d, err, c1)
	}
	if _, err := os.Stat(filepath.Join(s.root, "FETCH_HEAD.lock")); !os.IsNotExist(err) {
		t.Fatalf("FETCH_HEAD.lock left behind: %v", err)
	}
	linked := filepath.Join(t.TempDir(), "FETCH_HEAD")
	s.Linked = &Linked{Head: s.ReadHead, Log: HEAD, FetchHead: linked}
	if _, err := s.Resolve("FETCH_HEAD", objs); !errors.Is(err, ErrUnknownRevision) {
		t.Fatalf("a linked work tree read the repository's FETCH_HEAD: %v", err)
	}
	if err := s.WriteFetchHead(es[:1], false); err != nil {
		t.Fatal(err)
	}
	if d, err := s.Resolve("FETCH_HEAD", objs); err != nil || d != c2 {
		t.Fatalf("a linked work tree's FETCH_HEAD = %s, %v; want its own, %s", d, err, c2)
	}
	s.Linked = nil
	if err := s.WriteFetchHead(nil, false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Resolve("FETCH_HEAD", objs); !errors.Is(err, ErrUnknownRevision) {
		t.Fatalf("empty FETCH_HEAD: err = %v, want ErrUnknownRevision", err)
	}
	for _, bad := range []string{"garbage\n", c1.String() + "\n", c1.String() + "\tfor-merge\tx\n", "sha256:abc\t\tx\n", strings.Repeat("x", 5000) + "\t\tx\n"} {
		if err := os.WriteFile(filepath.Join(s.root, "FETCH_HEAD"), []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := s.Resolve("FETCH_HEAD", objs)
		if err == nil || strings.Contains(err.Error(), "\n") || len(err.Error()) > 200 {
			t.Errorf("FETCH_HEAD %.20q: err = %v; want a short one-line error", bad, err)
		}
	}
}

// TestFetchHeadFirstLine: as git's, the revision FETCH_HEAD reads its
// first line alone: a broken line after it, or a long tail with no
// newline, does not keep it from resolving; merge's ReadFetchHead still
// names the broken line.
func TestFetchHeadFirstLine(t *testing.T) {
	s := newStore(t)
	c1 := mkdigest("aaaa1")
	objs := fakeCommits{c1: ""}
	first := c1.String() + "\t\tbranch 'main' of x\n"
	for _, tail := range []string{"garbage\n", strings.Repeat("y", 1<<20)} {
		if err := os.WriteFile(filepath.Join(s.root, "FETCH_HEAD"), []byte(first+tail), 0o644); err != nil {
			t.Fatal(err)
		}
		if d, err := s.Resolve("FETCH_HEAD", objs); err != nil || d != c1 {
			t.Errorf("FETCH_HEAD with %.10q after its first line = %s, %v; want %s", tail, d, err, c1)
		}
		if _, err := s.ReadFetchHead(); err == nil || !strings.Contains(err.Error(), "line 2") {
			t.Errorf("ReadFetchHead of a broken line 2: err = %v", err)
		}
	}
	if err := os.WriteFile(filepath.Join(s.root, "FETCH_HEAD"), []byte("\n"+first), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Resolve("FETCH_HEAD", objs); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("FETCH_HEAD with an empty first line: err = %v", err)
	}
}
