package refs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// A ref file that holds no commit id (junk, or truncated to nothing) is
// broken: List leaves it out and says so once, ListAll returns it,
// Resolve says why the name does not resolve, HEAD on it is not unborn,
// and Delete and Update with Any replace it.
func TestBrokenRef(t *testing.T) {
	s := newStore(t)
	c := mkdigest("aaaa1")
	for _, name := range []string{"refs/heads/main", "refs/tags/v1", "refs/tags/v2"} {
		if err := s.Update(name, c, "", "test"); err != nil {
			t.Fatal(err)
		}
	}
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(s.file(name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("refs/tags/v1", "junk\n")
	if _, err := s.Read("refs/tags/v1"); !errors.Is(err, ErrBroken) {
		t.Fatalf("Read of junk: %v, want ErrBroken", err)
	}
	var warned []string
	s.OnBroken = func(b BrokenRef) { warned = append(warned, b.Name) }
	for i := 0; i < 2; i++ {
		all, err := s.List("refs/")
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		if len(all) != 2 || all[0].Name != "refs/heads/main" || all[1].Name != "refs/tags/v2" {
			t.Fatalf("List = %v, want main and v2", all)
		}
	}
	if len(warned) != 1 || warned[0] != "refs/tags/v1" {
		t.Fatalf("OnBroken told of %v, want refs/tags/v1 once", warned)
	}
	all, broken, err := s.ListAll("refs/")
	if err != nil || len(all) != 2 || len(broken) != 1 || broken[0].Name != "refs/tags/v1" || !errors.Is(broken[0].Err, ErrBroken) {
		t.Fatalf("ListAll = %v, %v, %v", all, broken, err)
	}
	objs := fakeCommits{c: ""}
	if _, err := s.Resolve("v1", objs); !errors.Is(err, ErrUnknownRevision) || !errors.Is(err, ErrBroken) {
		t.Fatalf("Resolve(v1): %v, want unknown revision, broken", err)
	}
	// HEAD's branch emptied: broken, not "no commits yet".
	write("refs/heads/main", "")
	h, err := s.ReadHead()
	if err != nil || h.Commit != "" || !errors.Is(h.Broken, ErrBroken) {
		t.Fatalf("ReadHead = %+v, %v; want Broken", h, err)
	}
	if _, err := s.Resolve("HEAD", objs); !errors.Is(err, ErrBroken) {
		t.Fatalf("Resolve(HEAD) on a broken branch: %v", err)
	}
	// Only Any moves or deletes a broken ref.
	if err := s.Update("refs/heads/main", c, "", "test"); !errors.Is(err, ErrBroken) {
		t.Fatalf("Update of a broken ref from nothing: %v, want ErrBroken", err)
	}
	if err := s.Update("refs/heads/main", c, Any, "test"); err != nil {
		t.Fatalf("Update Any of a broken ref: %v", err)
	}
	if err := s.Delete("refs/tags/v1", c, "test"); !errors.Is(err, ErrBroken) {
		t.Fatalf("Delete of a broken ref from a commit: %v, want ErrBroken", err)
	}
	if err := s.Delete("refs/tags/v1", Any, "test"); err != nil {
		t.Fatalf("Delete Any of a broken ref: %v", err)
	}
	if _, err := os.Stat(filepath.Join(s.root, "refs/tags/v1")); !os.IsNotExist(err) {
		t.Fatalf("refs/tags/v1 still there: %v", err)
	}
}
