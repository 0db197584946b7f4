package worktree

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/strata-sh/strata/internal/kernellog"
)

// TestCompactOnlyWhenIdle: after commits that kept the mount, Compact
// remounts the tree on its commit with an empty upper (excluded paths
// kept) when nothing uses it, and changes nothing while a shell is inside
// or when the upper changed after the commit's scan.
func TestCompactOnlyWhenIdle(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	inUse := kernellog.Watch(t, kernellog.InUse)
	r := newRepo(t)
	base := filepath.Join(t.TempDir(), "base")
	writeBase(t, base)
	commitDir(t, r, base, "base")
	w := checkoutMain(t, r, "main")
	must(t, os.MkdirAll(filepath.Join(r.Root, "info"), 0o755))
	must(t, os.WriteFile(filepath.Join(r.Root, "info", "exclude"), []byte("/scratch\n"), 0o644))
	must(t, write(w.Target()+"/scratch", "kept\n"))

	// A shell inside: the commit keeps the mount, and so does Compact.
	sh := shellIn(t, filepath.Join(w.Target(), "etc"))
	for i, f := range []string{"one", "two"} {
		must(t, write(w.Target()+"/etc/"+f, f+"\n"))
		if _, _, err := w.Commit(ctx, CommitOptions{Message: f}); err != nil {
			t.Fatalf("commit %d: %v", i, err)
		}
	}
	if done, err := w.Compact(ctx, 1); err != nil || done {
		t.Fatalf("Compact with a shell inside = %v, %v; want a no-op", done, err)
	}
	if st, _, _ := w.State(); !st.Stacked {
		t.Fatal("the mount was replaced under the shell")
	}
	if out := sh("cat one two && cd / && echo left"); out != "one\ntwo\nleft\n" {
		t.Fatalf("the shell inside: %q", out)
	}

	// A write after the commit's scan: kept, mounted as before.
	must(t, write(w.Target()+"/etc/three", "three\n"))
	_, _, err := w.Commit(ctx, CommitOptions{Message: "three"})
	must(t, err)
	must(t, write(w.Target()+"/etc/late", "late\n"))
	if done, err := w.Compact(ctx, 1); err != nil || done {
		t.Fatalf("Compact after a late write = %v, %v; want a no-op", done, err)
	}
	if b, err := os.ReadFile(w.Target() + "/etc/late"); err != nil || string(b) != "late\n" {
		t.Fatalf("the late write: %q, %v", b, err)
	}
	cs, err := w.Status(ctx)
	must(t, err)
	if got := changeLines(cs); len(got) != 1 || got[0] != "A /etc/late" {
		t.Fatalf("status after a refused compaction: %v", got)
	}

	// Nothing inside, nothing written since: compacted, once enough
	// commits are stacked.
	_, _, err = w.Commit(ctx, CommitOptions{Message: "late"})
	must(t, err)
	if done, err := w.Compact(ctx, 5); err != nil || done {
		t.Fatalf("Compact of 4 stacked commits with minStacked 5 = %v, %v; want a no-op", done, err)
	}
	want := describe(t, w.Target())
	done, err := w.Compact(ctx, 1)
	if err != nil || !done {
		t.Fatalf("Compact of an idle tree = %v, %v; want done", done, err)
	}
	st, _, _ := w.State()
	if st.Stacked || st.Pending != "" {
		t.Fatalf("state after Compact: %+v", st)
	}
	compareTrees(t, want, describe(t, w.Target()))
	if b, err := os.ReadFile(w.Target() + "/scratch"); err != nil || string(b) != "kept\n" {
		t.Fatalf("the excluded /scratch after Compact: %q, %v", b, err)
	}
	if names, _ := os.ReadDir(w.upper()); len(names) != 1 || names[0].Name() != "scratch" {
		t.Fatalf("the new upper holds %v; want only the excluded /scratch", names)
	}
	cs, err = w.Status(ctx)
	must(t, err)
	if len(cs) != 0 {
		t.Fatalf("status after Compact: %v", changeLines(cs))
	}
	if got := inUse(); got != 0 {
		t.Fatalf("the kernel logged %d 'upperdir is in-use' lines", got)
	}
}
