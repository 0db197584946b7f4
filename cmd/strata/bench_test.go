package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/strata-sh/strata/fold"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/tree"
	"golang.org/x/sys/unix"
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

// BenchmarkLogRealCommitsCold prints, as `log --oneline` does, a history
// of 300 real commits (a layer each, folded past 128 layers, as strata
// commit writes them; bench/history.sh times 10,000) with the summary
// cache deleted before each run: every manifest, some 18 KB that lists
// up to 128 layers, is read, hashed and decoded, as by the first log
// after the cache was lost.
func BenchmarkLogRealCommitsCold(b *testing.B) {
	const n = 300
	dir := b.TempDir()
	r, err := repo.Init(dir, "main")
	if err != nil {
		b.Fatal(err)
	}
	trees := tree.NewTrees(r.Objects)
	var parent *objects.Commit
	date := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 1; i <= n; i++ {
		src := b.TempDir()
		if err := os.WriteFile(filepath.Join(src, fmt.Sprintf("f%d", i)), []byte(fmt.Sprintf("file %d\n", i)), 0o644); err != nil {
			b.Fatal(err)
		}
		l, err := r.Objects.AddLayerFromDir(context.Background(), src, layer.WriteOptions{})
		if err != nil {
			b.Fatal(err)
		}
		nc := objects.NewCommit{Parent: parent, Layers: []objects.Layer{l}, Author: "Bench <bench@example.com>",
			Date: date.Add(time.Duration(i) * time.Minute), Message: fmt.Sprintf("commit %d", i), OS: "linux", Architecture: "amd64"}
		if _, err := fold.Prepare(context.Background(), r.Objects, trees, &nc); err != nil {
			b.Fatal(err)
		}
		if parent, err = r.Objects.WriteCommit(nc); err != nil {
			b.Fatal(err)
		}
	}
	if err := r.Refs.Update(refs.Heads+"main", parent.ID, "", "bench"); err != nil {
		b.Fatal(err)
	}
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		for _, f := range []string{"summaries", "summaries-journal"} {
			if err := os.Remove(filepath.Join(r.Root, "indexes", f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				b.Fatal(err)
			}
		}
		r, err := repo.Open(dir) // a store that has read nothing yet
		if err != nil {
			b.Fatal(err)
		}
		before := cpuTime(b)
		b.StartTimer()
		if err := runLog(io.Discard, r, []string{"HEAD"}, nil, logOptions{max: -1, hdr: onelineHeader}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		cpu += cpuTime(b) - before
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/n, "µs/commit")
	// The CPU time of every goroutine, which wall time on a busy
	// machine hides: the figure to compare.
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N)/n, "cpu-µs/commit")
}

// cpuTime is the process's user and system time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
