package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// Story fixtures that write histories without mounts: commits of a few
// files and merge commits, as merge writes them (ours' layers plus one
// with their changes since the merge base; here their layers reused).
// Each commit is dated a minute after its newest parent, the first at
// SOURCE_DATE_EPOCH, so ids are the same on every run.

// fixcommit [-from REV] BRANCH MSG [PATH=CONTENT...]: a commit on BRANCH
// (a new branch at REV with -from, a root commit if BRANCH is new
// without it) adding the files.
func fixCommit(ts *testscript.TestScript, neg bool, args []string) {
	from := ""
	if len(args) > 1 && args[0] == "-from" {
		from, args = args[1], args[2:]
	}
	if len(args) < 2 {
		ts.Fatalf("usage: fixcommit [-from REV] BRANCH MSG [PATH=CONTENT...]")
	}
	r, err := repo.Find(ts.MkAbs("."))
	ts.Check(err)
	branch, msg := args[0], args[1]
	var parent *objects.Commit
	if from != "" {
		parent, err = r.Resolve(from)
		ts.Check(err)
	} else if d, err := r.Refs.Read(refs.Heads + branch); err == nil {
		parent, err = r.Objects.ReadCommit(d)
		ts.Check(err)
	}
	var ls []objects.Layer
	if len(args) > 2 {
		dir := ts.MkAbs(".fixture-" + branch)
		ts.Check(os.RemoveAll(dir))
		for _, f := range args[2:] {
			p, content, _ := strings.Cut(f, "=")
			full := filepath.Join(dir, filepath.FromSlash(p))
			ts.Check(os.MkdirAll(filepath.Dir(full), 0o755))
			ts.Check(os.WriteFile(full, []byte(content+"\n"), 0o644))
		}
		mtime := func(time.Time) time.Time { return time.Unix(1700000000, 0) }
		l, err := r.Objects.AddLayerFromDir(context.Background(), dir, layer.WriteOptions{Mtime: mtime})
		ts.Check(err)
		ts.Check(os.RemoveAll(dir))
		ls = append(ls, l)
	}
	fixWrite(ts, r, branch, objects.NewCommit{Parent: parent, Layers: ls, Message: msg}, parent)
}

// fakemerge BRANCH THEIRS MSG: a merge commit on BRANCH of THEIRS.
func fakeMerge(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: fakemerge BRANCH THEIRS MSG")
	}
	r, err := repo.Find(ts.MkAbs("."))
	ts.Check(err)
	ours, err := r.Resolve(refs.Heads + args[0])
	ts.Check(err)
	theirs, err := r.Resolve(args[1])
	ts.Check(err)
	base, err := repo.MergeBase(r.Objects, ours.ID, theirs.ID)
	ts.Check(err)
	bc, err := r.Objects.ReadCommit(base)
	ts.Check(err)
	layers := theirs.Layers()[len(bc.Layers()):]
	fixWrite(ts, r, args[0], objects.NewCommit{Parent: ours, MergeParent: theirs.ID, Layers: layers, Message: args[2]}, ours, theirs)
}

func fixWrite(ts *testscript.TestScript, r *repo.Repo, branch string, nc objects.NewCommit, parents ...*objects.Commit) {
	date := time.Unix(1700000000, 0).UTC()
	for _, p := range parents {
		if p != nil && !p.Date().Before(date) {
			date = p.Date().Add(time.Minute)
		}
	}
	nc.Date, nc.Author, nc.OS, nc.Architecture = date, "A U Thor <author@example.com>", "linux", "amd64"
	c, err := r.Objects.WriteCommit(nc)
	ts.Check(err)
	old, _ := r.Refs.Read(refs.Heads + branch)
	ts.Check(r.Refs.Update(refs.Heads+branch, c.ID, old, "fixture: "+nc.Message))
}
