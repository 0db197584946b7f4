package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// TestLogMarksShallowHistory: a fetched history cut where a registry lost
// an ancestor ends at a commit log marks "grafted", as git does.
func TestLogMarksShallowHistory(t *testing.T) {
	r, err := repo.Init(t.TempDir(), "main")
	if err != nil {
		t.Fatal(err)
	}
	date := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	root, err := r.Objects.WriteCommit(objects.NewCommit{Author: "A <a@x>", Date: date, Message: "root"})
	if err != nil {
		t.Fatal(err)
	}
	tip, err := r.Objects.WriteCommit(objects.NewCommit{Parent: root, Author: "A <a@x>", Date: date, Message: "tip"})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Refs.Update(refs.Heads+"main", tip.ID, "", "test"); err != nil {
		t.Fatal(err)
	}
	if err := r.Objects.Delete(root.ID); err != nil {
		t.Fatal(err)
	}
	if err := r.AddShallow(tip.ID); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := runLog(&out, r, "main", nil, logOptions{max: -1, oneline: true}); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(out.String()); got != shortID(tip.ID)+" (HEAD -> main, grafted) tip" {
		t.Fatalf("log = %q", got)
	}
	out.Reset()
	if err := runLog(&out, r, "main", nil, logOptions{max: -1, format: "json"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"shallow": true`) {
		t.Fatalf("log --format json does not mark the shallow commit:\n%s", out.String())
	}
}
