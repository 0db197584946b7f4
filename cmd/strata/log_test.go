package main

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
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
	if err := runLog(&out, r, []string{"main"}, nil, logOptions{max: -1, hdr: onelineHeader}); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(out.String()); got != shortID(tip.ID)+" (HEAD -> main, grafted) tip" {
		t.Fatalf("log = %q", got)
	}
	out.Reset()
	if err := runLog(&out, r, []string{"main"}, nil, logOptions{max: -1, format: "json"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"shallow": true`) {
		t.Fatalf("log --format json does not mark the shallow commit:\n%s", out.String())
	}
}

// TestLogMatchesGit writes random histories with merges and several
// branches both as strata commits and as empty git commits, and compares
// log --oneline and log --graph --oneline (with --all and --first-parent)
// with git's output, subjects for ids.
func TestLogMatchesGit(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for i := 0; i < 12; i++ {
		h := newTwinHistory(t)
		r, git := h.r, h.git
		n := 3 + rng.Intn(16)
		for k := 0; k < n; k++ {
			ps := randomParents(rng, k)
			date := time.Unix(1_700_000_000+60*int64(rng.Intn(n)), 0).UTC()
			if i%2 == 0 {
				date = time.Unix(1_700_000_000+60*int64(k), 0).UTC()
			}
			author, genv := "t <t@x>", []string(nil)
			if k%3 == 1 { // for log --author
				author, genv = "Ursula U <u@y>", []string{"GIT_AUTHOR_NAME=Ursula U", "GIT_AUTHOR_EMAIL=u@y"}
			}
			nc := objects.NewCommit{Author: author, Date: date, Message: fmt.Sprintf("c%d", k), OS: "linux", Architecture: "amd64"}
			h.commit(nc, ps, "4b825dc642cb6eb9a060e54bf8d69288fbee4904", genv) // the empty tree
		}
		b := h.branchTips()
		ids := regexp.MustCompile(`[0-9a-f]{12} (\([^)]*\) )?`)
		// The filters; --since and --until at the middle of the dates
		// (git's walk ends at a commit older than --since: the same
		// commits only when no parent is younger than its child).
		mid := fmt.Sprintf("@%d", 1_700_000_000+60*int64(n/2))
		filters := []struct {
			o   logOptions
			git []string
		}{
			{logOptions{max: -1, hdr: onelineHeader, filter: logFilterFlags{grep: []string{"^c1"}}}, []string{"--date-order", "--grep=^c1"}},
			{logOptions{max: -1, hdr: onelineHeader, filter: logFilterFlags{grep: []string{"C1$", "c2"}, ignoreCase: true}}, []string{"--date-order", "--grep=C1$", "--grep=c2", "-i"}},
			{logOptions{max: -1, hdr: onelineHeader, pseudo: logAll, filter: logFilterFlags{author: []string{"^Urs.*@y>$"}}}, []string{"--date-order", "--all", "--author=^Urs.*@y>$"}},
			{logOptions{max: 2, hdr: onelineHeader, pseudo: logAll, filter: logFilterFlags{author: []string{"ursula"}, grep: []string{"1"}, ignoreCase: true}}, []string{"--date-order", "--all", "-n", "2", "--author=ursula", "--grep=1", "-i"}},
			{logOptions{max: 3, hdr: onelineHeader, pseudo: logAll, reverse: true}, []string{"--date-order", "--all", "-n", "3", "--reverse"}},
			{logOptions{max: -1, hdr: onelineHeader, pseudo: logAll, reverse: true, noMerges: true}, []string{"--date-order", "--all", "--reverse", "--no-merges"}},
			{logOptions{max: -1, hdr: onelineHeader, graph: true, pseudo: logAll, filter: logFilterFlags{grep: []string{"[02468]$"}}}, []string{"--graph", "--all", "--grep=[02468]$"}},
		}
		if i%2 == 0 {
			filters = append(filters, []struct {
				o   logOptions
				git []string
			}{
				{logOptions{max: -1, hdr: onelineHeader, pseudo: logAll, filter: logFilterFlags{since: mid}}, []string{"--date-order", "--all", "--since=" + mid}},
				{logOptions{max: -1, hdr: onelineHeader, pseudo: logAll, filter: logFilterFlags{until: mid}}, []string{"--date-order", "--all", "--until=" + mid}},
				{logOptions{max: -1, hdr: onelineHeader, graph: true, pseudo: logAll, filter: logFilterFlags{since: mid}}, []string{"--graph", "--all", "--since=" + mid}},
				{logOptions{max: 2, hdr: onelineHeader, pseudo: logAll, reverse: true, filter: logFilterFlags{since: mid, author: []string{"t"}}}, []string{"--date-order", "--all", "--since=" + mid, "--author=t", "-n", "2", "--reverse"}},
			}...)
		}
		for _, tc := range append([]struct {
			o   logOptions
			git []string
		}{
			{logOptions{max: -1, hdr: onelineHeader}, []string{"--date-order"}},
			{logOptions{max: -1, hdr: onelineHeader, pseudo: logAll}, []string{"--date-order", "--all"}},
			{logOptions{max: -1, hdr: onelineHeader, graph: true}, []string{"--graph"}},
			{logOptions{max: -1, hdr: onelineHeader, graph: true, pseudo: logAll}, []string{"--graph", "--all"}},
			{logOptions{max: -1, hdr: onelineHeader, graph: true, pseudo: logAll, firstParent: true}, []string{"--graph", "--all", "--first-parent"}},
			{logOptions{max: 4, hdr: onelineHeader, graph: true, pseudo: logAll}, []string{"--graph", "--all", "-n", "4"}},
			{logOptions{max: -1, hdr: onelineHeader, graph: true, pseudo: logAll, noMerges: true}, []string{"--graph", "--all", "--no-merges"}},
			{logOptions{max: -1, hdr: onelineHeader, graph: true, pseudo: logAll, merges: true}, []string{"--graph", "--all", "--merges"}},
		}, filters...) {
			var out bytes.Buffer
			revs := []string{"HEAD"}
			if tc.o.pseudo != nil {
				revs = nil
			}
			if err := runLog(&out, r, revs, nil, tc.o); err != nil {
				t.Fatal(err)
			}
			got := ids.ReplaceAllString(out.String(), "")
			want := git("", nil, append(append([]string{"log", "--format=%s"}, tc.git...), "HEAD")[:len(tc.git)+2+boolInt(tc.o.pseudo == nil)]...)
			if got != want {
				t.Errorf("history %d, log %v: strata\n%s\ngit\n%s", i, tc.git, got, want)
			}
		}
		// Ranges between the branches, and an empty one.
		last := fmt.Sprintf("b%d", b-1)
		for _, revs := range [][]string{{"b0.." + last}, {last + "..b0"}, {"b0..." + last}, {"^" + last, "b0"}, {"b0..b0"}} {
			var out bytes.Buffer
			if err := runLog(&out, r, revs, nil, logOptions{max: -1, hdr: onelineHeader}); err != nil {
				t.Fatalf("history %d, log %v: %v", i, revs, err)
			}
			got := ids.ReplaceAllString(out.String(), "")
			want := git("", nil, append([]string{"log", "--format=%s", "--date-order"}, revs...)...)
			if got != want {
				t.Errorf("history %d, log %v: strata\n%s\ngit\n%s", i, revs, got, want)
			}
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// corrupt overwrites commit id's manifest with another JSON object, and
// removes the summary journal the commits wrote: log gives a commit the
// summary cache has without reading its manifest (docs/format.md, "The
// summary cache"; fsck compares the two), and these tests are about a
// manifest log reads.
func corrupt(t *testing.T, r *repo.Repo, id digest.Digest) {
	t.Helper()
	broken := r.Objects.BlobPath(id)
	os.Chmod(broken, 0o644)
	if err := os.WriteFile(broken, []byte(`{"schemaVersion":2}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(r.Root, "indexes", "summaries-journal")); err != nil {
		t.Fatal(err)
	}
}

// TestLogPrintsUpToABrokenCommit: as git log, text output streams, so
// the commits above one whose manifest is corrupt are printed before the
// error; JSON, one array, is written whole or not at all.
func TestLogPrintsUpToABrokenCommit(t *testing.T) {
	r, err := repo.Init(t.TempDir(), "main")
	if err != nil {
		t.Fatal(err)
	}
	date := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var ids []*objects.Commit
	var parent *objects.Commit
	for _, msg := range []string{"one", "two", "three"} {
		c, err := r.Objects.WriteCommit(objects.NewCommit{Parent: parent, Author: "A <a@x>", Date: date, Message: msg})
		if err != nil {
			t.Fatal(err)
		}
		ids, parent = append(ids, c), c
	}
	if err := r.Refs.Update(refs.Heads+"main", parent.ID, "", "test"); err != nil {
		t.Fatal(err)
	}
	corrupt(t, r, ids[0].ID)
	var out bytes.Buffer
	err = runLog(&out, r, []string{"main"}, nil, logOptions{max: -1, hdr: onelineHeader})
	if err == nil || !strings.Contains(err.Error(), shortID(ids[0].ID)) {
		t.Fatalf("log over a corrupt commit: err = %v", err)
	}
	want := shortID(ids[2].ID) + " (HEAD -> main) three\n" + shortID(ids[1].ID) + " two\n"
	if out.String() != want {
		t.Fatalf("log printed %q before the error; want %q", out.String(), want)
	}
	out.Reset()
	if err := runLog(&out, r, []string{"main"}, nil, logOptions{max: -1, format: "json"}); err == nil || out.Len() != 0 {
		t.Fatalf("log --format json over a corrupt commit: err = %v, printed %q", err, out.String())
	}
}

// TestLogFiltersReadNoMoreThanNeeded: with -n, a filter reads the
// history only as far as the commits it shows; --since ends the walk at
// a commit older than it, as git's, even where a merge would have the
// walk read the whole history to order it. A corrupt root commit shows
// whether log read that far.
func TestLogFiltersReadNoMoreThanNeeded(t *testing.T) {
	r, err := repo.Init(t.TempDir(), "main")
	if err != nil {
		t.Fatal(err)
	}
	day := func(d int) time.Time { return time.Date(2024, 1, d, 0, 0, 0, 0, time.UTC) }
	write := func(msg string, d int, parent *objects.Commit, merge *objects.Commit) *objects.Commit {
		nc := objects.NewCommit{Parent: parent, Author: "A <a@x>", Date: day(d), Message: msg}
		if merge != nil {
			nc.MergeParent = merge.ID
		}
		c, err := r.Objects.WriteCommit(nc)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	root := write("root", 1, nil, nil)
	old := write("old", 2, root, nil)
	main1 := write("main one", 10, old, nil)
	side := write("side", 11, old, nil)
	tip := write("merge side", 12, main1, side)
	if err := r.Refs.Update(refs.Heads+"main", tip.ID, "", "test"); err != nil {
		t.Fatal(err)
	}
	corrupt(t, r, root.ID)
	log := func(o logOptions) (string, error) {
		var out bytes.Buffer
		o.hdr = onelineHeader
		err := runLog(&out, r, []string{"main"}, nil, o)
		return regexp.MustCompile(`[0-9a-f]{12} (\([^)]*\) )?`).ReplaceAllString(out.String(), ""), err
	}
	if _, err := log(logOptions{max: -1}); err == nil {
		t.Fatal("log read past a corrupt commit without an error: the test shows nothing")
	}
	if _, err := log(logOptions{max: -1, filter: logFilterFlags{until: "2024-01-11T00:00:00Z"}}); err == nil {
		t.Fatal("log --until read past a corrupt commit without an error")
	}
	for _, tc := range []struct {
		o    logOptions
		want string
	}{
		{logOptions{max: -1, filter: logFilterFlags{since: "2024-01-05T00:00:00Z"}}, "merge side\nside\nmain one\n"},
		{logOptions{max: -1, reverse: true, filter: logFilterFlags{since: "2024-01-05T00:00:00Z", grep: []string{"side"}}}, "side\nmerge side\n"},
		{logOptions{max: 1, filter: logFilterFlags{grep: []string{"^main"}}}, "main one\n"},
		{logOptions{max: 1, filter: logFilterFlags{author: []string{"a@x"}}, firstParent: true}, "merge side\n"},
	} {
		got, err := log(tc.o)
		if err != nil || got != tc.want {
			t.Errorf("log %+v = %q, %v; want %q", tc.o.filter, got, err, tc.want)
		}
	}
}

// logAll is log's --all.
var logAll = []pseudoRev{{name: "all"}}
