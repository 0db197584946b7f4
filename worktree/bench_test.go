package worktree

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/strata-sh/strata/internal/testrootfs"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/snapshot"
	"github.com/strata-sh/strata/tree"
)

// The benchmarks run on a Debian minbase tree ($STRATA_BENCH_TREE, or
// /var/cache/strata-bench/debian as scripts/bench-tree.sh builds it),
// else on busybox; with -short (make test runs every benchmark once so)
// on busybox unless $STRATA_BENCH_TREE names a tree. Each reports the median of its iterations as
// "median-ms", which bench/checkout.sh collects.

var bench struct {
	once sync.Once
	dir  string // a shared project; benchmarks take their own branches
	r    *repo.Repo
	base *objects.Commit
	err  error
}

func benchTree(b *testing.B) string {
	if d := os.Getenv("STRATA_BENCH_TREE"); d != "" {
		return d
	}
	if _, err := os.Stat("/var/cache/strata-bench/debian/.complete"); err == nil && !testing.Short() {
		return "/var/cache/strata-bench/debian"
	}
	b.Log("no Debian tree (scripts/bench-tree.sh): using busybox")
	return testrootfs.Busybox(b)
}

// benchRepo imports the bench tree once per process.
func benchRepo(b *testing.B) (*repo.Repo, *objects.Commit) {
	requireRoot(b)
	bench.once.Do(func() {
		tree := benchTree(b)
		bench.dir, bench.err = os.MkdirTemp("", "strata-bench-")
		if bench.err != nil {
			return
		}
		if bench.r, bench.err = repo.Init(filepath.Join(bench.dir, "proj"), "main"); bench.err != nil {
			return
		}
		info, err := bench.r.Objects.AddLayerFromDir(context.Background(), tree, layer.WriteOptions{})
		if bench.err = err; err != nil {
			return
		}
		bench.base = commitLayers_(b, bench.r, "base", info)
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	return bench.r, bench.base
}

// medianMs reports the median of ds.
func medianMs(b *testing.B, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, "median-ms")
}

// benchWorktree checks out rev in a fresh extra work tree.
func benchWorktree(b *testing.B, r *repo.Repo, rev string) *Worktree {
	w, err := ForPath(r, filepath.Join(b.TempDir(), "wt"))
	must(b, err)
	unmountAll(b, w.Target())
	_, err = w.Checkout(context.Background(), CheckoutOptions{Rev: rev})
	must(b, err)
	return w
}

func BenchmarkCommitOneFile(b *testing.B) {
	r, base := benchRepo(b)
	ctx := context.Background()
	w := benchWorktree(b, r, base.ID.String())
	var ds []time.Duration
	for i := 0; i < b.N; i++ {
		if i > 0 && i%50 == 0 {
			b.StopTimer() // stay shallow: no flattening inside the loop
			_, err := w.Reset(ctx, base.ID.String(), ResetHard)
			must(b, err)
			b.StartTimer()
		}
		must(b, write(w.Target()+"/etc/motd", fmt.Sprintf("motd %d\n", i)))
		start := time.Now()
		_, _, err := w.Commit(ctx, CommitOptions{Message: "motd"})
		ds = append(ds, time.Since(start))
		must(b, err)
	}
	medianMs(b, ds)
}

// deepOn makes a commit of depth n: base plus n-1 small layers.
func deepOn(b *testing.B, r *repo.Repo, base *objects.Commit, n int) *objects.Commit {
	ls := append(base.Layers(), deepLayers(b, r, n-1)...)
	c, err := r.Objects.WriteCommit(objects.NewCommit{Layers: ls, Author: "B <b@example.com>",
		Date: time.Unix(1700000000, 0), Message: fmt.Sprint("depth ", n), OS: "linux", Architecture: "amd64"})
	must(b, err)
	return c
}

// BenchmarkCheckoutCached switches between two cached revisions of depth
// 1, 100 and 1,000 (past snapshot.MaxLowers: flattened); with -short
// (make test runs every benchmark once so) the last is MaxLowers+2.
func BenchmarkCheckoutCached(b *testing.B) {
	r, base := benchRepo(b)
	ctx := context.Background()
	depths := []int{1, 100, 1000}
	if testing.Short() {
		depths[2] = snapshot.MaxLowers + 2 // flattened still, a few seconds to make
	}
	for _, depth := range depths {
		b.Run(fmt.Sprint("depth=", depth), func(b *testing.B) {
			top := base
			if depth > 1 {
				top = deepOn(b, r, base, depth)
			}
			// Two revisions of the same depth, both cached: switch between them.
			other, err := r.Objects.WriteCommit(objects.NewCommit{Layers: top.Layers(), Author: "B <b@example.com>",
				Date: time.Unix(1700000001, 0), Message: "other", OS: "linux", Architecture: "amd64"})
			must(b, err)
			w := benchWorktree(b, r, top.ID.String())
			revs := []string{other.ID.String(), top.ID.String()}
			var ds []time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				_, err := w.Checkout(ctx, CheckoutOptions{Rev: revs[i%2]})
				ds = append(ds, time.Since(start))
				must(b, err)
			}
			medianMs(b, ds)
		})
	}
}

func BenchmarkDiffRevisions(b *testing.B) {
	r, base := benchRepo(b)
	ctx := context.Background()
	w := benchWorktree(b, r, base.ID.String())
	for i := 0; i < 20; i++ {
		must(b, write(fmt.Sprintf("%s/etc/bench-%d", w.Target(), i), "x"))
	}
	must(b, os.Remove(w.Target()+"/etc/group")) // in Debian's tree and busybox's
	c, _, err := w.Commit(ctx, CommitOptions{Message: "changes"})
	must(b, err)
	var ds []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		cs, err := tree.DiffRevisions(tree.NewTrees(r.Objects), base, c, nil)
		ds = append(ds, time.Since(start))
		must(b, err)
		if len(cs) < 21 {
			b.Fatalf("%d changes", len(cs))
		}
	}
	medianMs(b, ds)
}

func BenchmarkStatus1000(b *testing.B) {
	r, base := benchRepo(b)
	ctx := context.Background()
	w := benchWorktree(b, r, base.ID.String())
	must(b, os.MkdirAll(w.Target()+"/srv/bench", 0o755))
	for i := 0; i < 1000; i++ {
		must(b, write(fmt.Sprintf("%s/srv/bench/f%d", w.Target(), i), fmt.Sprint(i)))
	}
	var ds []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		cs, err := w.Status(ctx)
		ds = append(ds, time.Since(start))
		must(b, err)
		if len(cs) < 1001 || len(cs) > 1002 { // /srv may be new too
			b.Fatalf("%d changes", len(cs))
		}
	}
	medianMs(b, ds)
}

// BenchmarkCommitOneFileShell commits one file written by a shell that
// lives in /etc: the mount stays, the commit is stacked on it.
func BenchmarkCommitOneFileShell(b *testing.B) {
	r, base := benchRepo(b)
	ctx := context.Background()
	w := benchWorktree(b, r, base.ID.String())
	sh := shellIn(b, w.Target()+"/etc")
	var ds []time.Duration
	for i := 0; i < b.N; i++ {
		if out := sh(fmt.Sprintf("echo motd %d > motd", i)); out != "" {
			b.Fatal(out)
		}
		start := time.Now()
		_, _, err := w.Commit(ctx, CommitOptions{Message: "motd"})
		ds = append(ds, time.Since(start))
		must(b, err)
	}
	medianMs(b, ds)
}

// BenchmarkStatus1000Stacked50: status of 1,000 changed files on a mount
// that already carries 50 commits.
func BenchmarkStatus1000Stacked50(b *testing.B) {
	r, base := benchRepo(b)
	ctx := context.Background()
	w := benchWorktree(b, r, base.ID.String())
	must(b, os.MkdirAll(w.Target()+"/srv/bench", 0o755))
	for i := 0; i < 50; i++ {
		must(b, write(fmt.Sprintf("%s/srv/c%d", w.Target(), i), fmt.Sprint(i)))
		_, _, err := w.Commit(ctx, CommitOptions{Message: fmt.Sprint(i)})
		must(b, err)
	}
	for i := 0; i < 1000; i++ {
		must(b, write(fmt.Sprintf("%s/srv/bench/f%d", w.Target(), i), fmt.Sprint(i)))
	}
	var ds []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		cs, err := w.Status(ctx)
		ds = append(ds, time.Since(start))
		must(b, err)
		if len(cs) != 1000 {
			b.Fatalf("%d changes", len(cs))
		}
	}
	medianMs(b, ds)
}
