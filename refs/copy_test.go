package refs

import (
	"errors"
	"testing"
)

// TestCopy: Copy makes the new ref at the old one's commit with the old
// one's reflog and the copy's entry on top, as git's branch -c; the old
// ref and its reflog stay as they were; a new name in use is refused.
func TestCopy(t *testing.T) {
	s := newStore(t)
	c1, c2 := mkdigest("aaaa1"), mkdigest("aaaa2")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.Update(Heads+"a", c1, "", "one"))
	must(s.Update(Heads+"a", c2, c1, "two"))
	must(s.Copy(Heads+"a", Heads+"b", "branch: copied a to b"))
	if d, err := s.Read(Heads + "b"); err != nil || d != c2 {
		t.Fatalf("b = %s, %v; want %s", d, err, c2)
	}
	log, err := s.Log(Heads + "b")
	must(err)
	var msgs []string
	for _, e := range log {
		msgs = append(msgs, e.Message)
	}
	if len(msgs) != 3 || msgs[0] != "branch: copied a to b" || msgs[1] != "two" || msgs[2] != "one" {
		t.Errorf("b's reflog = %q; want the copy's entry, then a's", msgs)
	}
	if log, err := s.Log(Heads + "a"); err != nil || len(log) != 2 {
		t.Errorf("a's reflog = %v, %v; want its two entries", log, err)
	}
	if err := s.Copy(Heads+"a", Heads+"b", "again"); !errors.Is(err, ErrExists) {
		t.Errorf("Copy over b: err = %v; want ErrExists", err)
	}
	if err := s.Copy(Heads+"nosuch", Heads+"c", "x"); err == nil || s.Exists(Heads+"c") {
		t.Errorf("Copy of no ref: err = %v, c exists %v", err, s.Exists(Heads+"c"))
	}
}
