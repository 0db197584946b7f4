package worktree

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// branchCommit writes a commit on top of parent whose one layer holds
// files (path -> content), and points branch at it.
func branchCommit(b testing.TB, r *repo.Repo, branch string, parent *objects.Commit, msg string, files map[string]string) *objects.Commit {
	b.Helper()
	dir := b.TempDir()
	fixed := time.Unix(1700000000, 0)
	for p, content := range files {
		full := filepath.Join(dir, p)
		must(b, os.MkdirAll(filepath.Dir(full), 0o755))
		must(b, os.WriteFile(full, []byte(content), 0o644))
	}
	filepath.Walk(dir, func(p string, _ os.FileInfo, _ error) error { return os.Chtimes(p, fixed, fixed) })
	l, err := r.Objects.AddLayerFromDir(context.Background(), dir, layer.WriteOptions{})
	must(b, err)
	c, err := r.Objects.WriteCommit(objects.NewCommit{Parent: parent, Layers: []objects.Layer{l}, Author: "B <b@example.com>",
		Date: fixed, Message: msg, OS: "linux", Architecture: "amd64"})
	must(b, err)
	old, _ := r.Refs.Read(refs.Heads + branch)
	if old == "" {
		old = refs.Any
	}
	must(b, r.Refs.Update(refs.Heads+branch, c.ID, old, "bench"))
	return c
}

// benchRun names each run's branches: a benchmark runs several times in
// one process, and a branch is checked out in one work tree only.
var benchRun int

// BenchmarkRebase20: a branch of 20 one-file commits replayed onto a new
// base. Goal: under 200 ms, with no layer written.
func BenchmarkRebase20(b *testing.B) {
	r, base := benchRepo(b)
	ctx := context.Background()
	benchRun++
	app, onto := fmt.Sprint("rb-app-", benchRun), fmt.Sprint("rb-new-", benchRun)
	tip := base
	for i := range 20 {
		tip = branchCommit(b, r, app, tip, fmt.Sprint("app ", i), map[string]string{fmt.Sprintf("srv/app/f%02d", i): fmt.Sprint(i)})
	}
	branchCommit(b, r, onto, base, "patched", map[string]string{"etc/patched": "yes"})
	w := benchWorktree(b, r, app)
	var ds []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		_, err := w.Reset(ctx, tip.ID.String(), ResetHard)
		must(b, err)
		b.StartTimer()
		start := time.Now()
		out, err := w.Rebase(ctx, RebaseOptions{Upstream: onto})
		ds = append(ds, time.Since(start))
		must(b, err)
		if out.Seq.Reused != 20 || out.Seq.Written != 0 {
			b.Fatalf("rebase reused %d layers and wrote %d, want 20 and 0", out.Seq.Reused, out.Seq.Written)
		}
	}
	b.ReportMetric(0, "layers-written")
	medianMs(b, ds)
}

// BenchmarkMerge1000: two branches with 1,000 changed paths each, no
// conflicts: a merge commit with one new layer. Goal: under 500 ms.
func BenchmarkMerge1000(b *testing.B) {
	r, base := benchRepo(b)
	ctx := context.Background()
	ours, theirs := map[string]string{}, map[string]string{}
	for i := range 1000 {
		ours[fmt.Sprintf("srv/ours/f%04d", i)] = fmt.Sprint("ours ", i)
		theirs[fmt.Sprintf("srv/theirs/f%04d", i)] = fmt.Sprint("theirs ", i)
	}
	benchRun++
	ob, tb := fmt.Sprint("m-ours-", benchRun), fmt.Sprint("m-theirs-", benchRun)
	tip := branchCommit(b, r, ob, base, "ours", ours)
	branchCommit(b, r, tb, base, "theirs", theirs)
	w := benchWorktree(b, r, ob)
	var ds []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		_, err := w.Reset(ctx, tip.ID.String(), ResetHard)
		must(b, err)
		b.StartTimer()
		start := time.Now()
		out, err := w.Merge(ctx, MergeOptions{Rev: tb})
		ds = append(ds, time.Since(start))
		must(b, err)
		if out.Head == nil || out.Head.MergeParent() == "" || len(out.Head.Layers()) != len(tip.Layers())+1 {
			b.Fatalf("not a merge commit with one new layer: %+v", out)
		}
	}
	medianMs(b, ds)
}
