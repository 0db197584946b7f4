package main

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// BenchmarkLog1000 prints a 1,000-commit history; the target is under
// 100 ms.
func BenchmarkLog1000(b *testing.B) {
	r, err := repo.Init(b.TempDir(), "main")
	if err != nil {
		b.Fatal(err)
	}
	var parent *objects.Commit
	date := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 1000; i++ {
		c, err := r.Objects.WriteCommit(objects.NewCommit{Parent: parent, Author: "B <b@example.com>",
			Date: date.Add(time.Duration(i) * time.Minute), Message: fmt.Sprintf("commit %d", i), OS: "linux", Architecture: "amd64"})
		if err != nil {
			b.Fatal(err)
		}
		parent = c
	}
	if err := r.Refs.Update(refs.Heads+"main", parent.ID, "", "bench"); err != nil {
		b.Fatal(err)
	}
	for _, o := range []logOptions{{max: -1}, {max: -1, hdr: onelineHeader}, {max: -1, format: "json"}} {
		b.Run(fmt.Sprintf("oneline=%v,format=%s", o.hdr.oneline(), o.format), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if err := runLog(io.Discard, r, []string{"HEAD"}, nil, o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLogMerges1000 prints a 1,000-commit history in which every
// tenth commit merges a two-commit side branch: the whole history must
// be read and ordered, as with --graph.
func BenchmarkLogMerges1000(b *testing.B) {
	r, err := repo.Init(b.TempDir(), "main")
	if err != nil {
		b.Fatal(err)
	}
	date := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	n := 0
	commit := func(parent *objects.Commit, merge *objects.Commit) *objects.Commit {
		n++
		nc := objects.NewCommit{Parent: parent, Author: "B <b@example.com>",
			Date: date.Add(time.Duration(n) * time.Minute), Message: fmt.Sprintf("commit %d", n), OS: "linux", Architecture: "amd64"}
		if merge != nil {
			nc.MergeParent = merge.ID
		}
		c, err := r.Objects.WriteCommit(nc)
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	var tip *objects.Commit
	for n < 1000 {
		if tip != nil && n%10 == 7 {
			side := commit(commit(tip, nil), nil)
			tip = commit(commit(tip, nil), side)
			continue
		}
		tip = commit(tip, nil)
	}
	if err := r.Refs.Update(refs.Heads+"main", tip.ID, "", "bench"); err != nil {
		b.Fatal(err)
	}
	for _, o := range []logOptions{{max: -1, hdr: onelineHeader}, {max: -1, hdr: onelineHeader, graph: true}, {max: 5, hdr: onelineHeader, firstParent: true}} {
		b.Run(fmt.Sprintf("graph=%v,n=%d", o.graph, o.max), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if err := runLog(io.Discard, r, []string{"HEAD"}, nil, o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
