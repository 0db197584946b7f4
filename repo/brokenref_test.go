package repo

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
)

// TestBrokenRefFsckGC: fsck reports a broken ref and checks the rest;
// gc removes nothing while one is broken, since what it kept is unknown
// (git's gc stops on it too).
func TestBrokenRefFsckGC(t *testing.T) {
	r, cs := linearRepo(t, 3)
	if err := r.Refs.Update(refs.Tags+"v1", cs[0].ID, "", "test"); err != nil {
		t.Fatal(err)
	}
	// An unreachable commit shows whether gc removed anything.
	orphan, err := r.Objects.WriteCommit(objects.NewCommit{Date: time.Unix(9, 0), Message: "orphan", OS: "linux", Architecture: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.Root, "refs/tags/v1"), []byte("junk\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := r.Fsck(context.Background())
	if err != nil {
		t.Fatalf("fsck stopped at the broken ref: %v", err)
	}
	if res.Commits != 3 {
		t.Errorf("fsck checked %d commits, want the 3 of main", res.Commits)
	}
	found := false
	for _, p := range res.Problems {
		if p.Object == "refs/tags/v1" && strings.Contains(p.What, "broken ref") && strings.Contains(p.What, "strata tag -d v1") {
			found = true
		}
	}
	if !found {
		t.Errorf("fsck problems %v do not report refs/tags/v1 as broken", res.Problems)
	}
	if _, err := r.GC(GCOptions{}); !errors.Is(err, refs.ErrBroken) || !strings.Contains(err.Error(), "nothing is removed") {
		t.Fatalf("gc with a broken ref: %v, want a refusal", err)
	}
	if !r.Objects.Has(orphan.ID) {
		t.Fatal("gc removed a blob while a ref was broken")
	}
	if err := r.Refs.Delete(refs.Tags+"v1", refs.Any, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.GC(GCOptions{}); err != nil {
		t.Fatalf("gc once the broken ref is gone: %v", err)
	}
	if r.Objects.Has(orphan.ID) {
		t.Fatal("gc kept an unreachable commit")
	}
}
