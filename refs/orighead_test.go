package refs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestOrigHead: ORIG_HEAD resolves, with suffixes, to what SetOrigHead
// wrote; a linked work tree reads its own; unset, it names nothing.
func TestOrigHead(t *testing.T) {
	s := newStore(t)
	c1, c2 := mkdigest("aaaa1"), mkdigest("bbbb2")
	objs := fakeCommits{c1: "", c2: c1}
	if _, err := s.Resolve("ORIG_HEAD", objs); !errors.Is(err, ErrUnknownRevision) {
		t.Fatalf("unset ORIG_HEAD: err = %v, want ErrUnknownRevision", err)
	}
	if err := s.SetOrigHead("", c2); err != nil {
		t.Fatal(err)
	}
	for rev, want := range map[string]string{"ORIG_HEAD": c2.String(), "ORIG_HEAD~1": c1.String(), "ORIG_HEAD^{commit}": c2.String()} {
		if d, err := s.Resolve(rev, objs); err != nil || d.String() != want {
			t.Errorf("Resolve(%s) = %s, %v; want %s", rev, d, err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(s.root, "ORIG_HEAD.lock")); !os.IsNotExist(err) {
		t.Fatalf("ORIG_HEAD.lock left behind: %v", err)
	}
	linked := filepath.Join(t.TempDir(), "ORIG_HEAD")
	if err := s.SetOrigHead(linked, c1); err != nil {
		t.Fatal(err)
	}
	s.Linked = &Linked{Head: s.ReadHead, Log: HEAD, OrigHead: linked}
	if d, err := s.Resolve("ORIG_HEAD", objs); err != nil || d != c1 {
		t.Fatalf("a linked work tree's ORIG_HEAD = %s, %v; want its own, %s", d, err, c1)
	}
	s.Linked = nil
	if err := os.WriteFile(filepath.Join(s.root, "ORIG_HEAD"), []byte("ref: refs/heads/x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Resolve("ORIG_HEAD", objs); err == nil {
		t.Fatal("ORIG_HEAD with bad content resolved")
	}
}
