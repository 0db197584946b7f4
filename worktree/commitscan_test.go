package worktree

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// commitScanTree makes a base with files, checks it out and changes the
// work tree every way a scan tells apart: new directories of more files
// than one window, a changed file, a copy-up equal to its lower (left out
// of the layer), a deleted file and directory, an opaque directory, a
// symlink, an xattr, an excluded path.
func commitScanTree(t *testing.T) *Worktree {
	t.Helper()
	requireRoot(t)
	r := newRepo(t)
	src := t.TempDir()
	for _, d := range []string{"etc", "gone", "opq", "keep/sub"} {
		must(t, os.MkdirAll(filepath.Join(src, d), 0o755))
	}
	for i := range 40 {
		must(t, os.WriteFile(filepath.Join(src, "keep", fmt.Sprintf("f%03d", i)), []byte(fmt.Sprint("keep ", i)), 0o644))
	}
	for _, f := range []string{"etc/motd", "etc/same", "etc/del", "gone/x", "opq/old"} {
		must(t, os.WriteFile(filepath.Join(src, f), []byte(f), 0o644))
	}
	commitDir(t, r, src, "base")
	w := checkoutMain(t, r, "main")
	root := w.Target()
	for d := range 3 {
		dir := filepath.Join(root, fmt.Sprintf("new%d", d))
		must(t, os.MkdirAll(dir, 0o755))
		for f := range 300 {
			must(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%04d", f)), []byte(fmt.Sprint("new ", d, f)), 0o644))
		}
	}
	must(t, os.WriteFile(filepath.Join(root, "etc/motd"), []byte("changed"), 0o644))
	// A copy-up of the same content with a new mtime: not a change.
	must(t, os.WriteFile(filepath.Join(root, "etc/same"), []byte("etc/same"), 0o644))
	must(t, os.Chtimes(filepath.Join(root, "keep/f007"), time.Now(), time.Now()))
	must(t, os.Remove(filepath.Join(root, "etc/del")))
	must(t, os.RemoveAll(filepath.Join(root, "gone")))
	must(t, os.RemoveAll(filepath.Join(root, "opq")))
	must(t, os.MkdirAll(filepath.Join(root, "opq"), 0o755))
	must(t, os.WriteFile(filepath.Join(root, "opq/new"), []byte("n"), 0o644))
	must(t, os.Symlink("../etc/motd", filepath.Join(root, "keep/sub/link")))
	must(t, os.WriteFile(filepath.Join(root, "keep/x"), []byte("x"), 0o644))
	must(t, unix.Lsetxattr(filepath.Join(root, "keep/x"), "user.k", []byte("v"), 0))
	return w
}

// TestCommitWhileScanning: the layer a commit writes while it scans is
// byte for byte the one written after the scan, and its changes are the
// scan's.
func TestCommitWhileScanning(t *testing.T) {
	w := commitScanTree(t)
	ctx := context.Background()
	st, err := w.ensure(ctx)
	must(t, err)
	parent, err := w.commit(st.Commit)
	must(t, err)
	res, err := w.scanKeep(ctx, st, true)
	must(t, err)
	want, err := w.writeLayer(ctx, parent, res, nil)
	must(t, err)
	if res.same["/etc/same"] != true || res.same["/keep/f007"] != true {
		t.Fatalf("copy-ups equal to their lower not found: %v", res.same)
	}
	// Hold the scan back where the layer writer must wait for it: the
	// copy-ups equal to their lower are left out only once it decided.
	testScanDecided = func(p string) {
		if strings.HasPrefix(p, "/etc/") || strings.HasPrefix(p, "/keep/") {
			time.Sleep(time.Millisecond)
		}
	}
	t.Cleanup(func() { testScanDecided = nil })
	c, n, err := w.Commit(ctx, CommitOptions{Message: "changes"})
	must(t, err)
	if len(c.Layers()) == 0 {
		t.Fatal("commit has no layers")
	}
	got := c.Layers()[len(c.Layers())-1]
	if got.Desc.Digest != want.Desc.Digest || got.DiffID != want.DiffID {
		t.Errorf("layer written while scanning %s (diff id %s), after the scan %s (%s)",
			got.Desc.Digest, got.DiffID, want.Desc.Digest, want.DiffID)
	}
	idx, err := w.Repo.Objects.LayerIndex(got)
	must(t, err)
	in := map[string]bool{}
	for _, e := range idx {
		in[e.Path] = true
	}
	for p, want := range map[string]bool{"/etc/same": false, "/keep/f007": false, "/etc/motd": true,
		"/new2/f0299": true, "/keep/x": true, "/keep/sub/link": true, "/etc/del": true, "/opq/new": true} {
		if in[p] != want {
			t.Errorf("%s in the layer: %v, want %v", p, in[p], want)
		}
	}
	if n != len(res.changes) {
		t.Errorf("commit counted %d changes, the scan found %d: %v", n, len(res.changes), changeLines(res.changes))
	}
}

// TestCommitNothingWhileScanning: an upper with nothing to commit (a
// copy-up equal to its lower) is ErrNothingToCommit, and the layer
// written meanwhile is not stored.
func TestCommitNothingWhileScanning(t *testing.T) {
	requireRoot(t)
	r := newRepo(t)
	src := t.TempDir()
	must(t, os.WriteFile(filepath.Join(src, "f"), []byte("f"), 0o644))
	commitDir(t, r, src, "base")
	w := checkoutMain(t, r, "main")
	must(t, os.WriteFile(filepath.Join(w.Target(), "f"), []byte("f"), 0o644))
	blobs := func() []string {
		t.Helper()
		es, err := os.ReadDir(filepath.Join(r.Objects.Root(), "blobs", "sha256"))
		must(t, err)
		var out []string
		for _, e := range es {
			out = append(out, e.Name())
		}
		return out
	}
	before := blobs()
	_, _, err := w.Commit(context.Background(), CommitOptions{Message: "nothing"})
	if !errors.Is(err, ErrNothingToCommit) {
		t.Fatalf("commit: %v, want ErrNothingToCommit", err)
	}
	if after := blobs(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("blobs before %v, after %v", before, after)
	}
}

// TestScanGate: the writer may take an entry once the scanner passed it,
// or finished its directory, or the scan ended; not before. A waiting
// writer is woken by the mark that lets it on.
func TestScanGate(t *testing.T) {
	g := newScanGate()
	check := func(p string, want bool) {
		t.Helper()
		i := strings.LastIndexByte(p, '/')
		g.mu.Lock()
		got := g.passed(p[:i], p[i+1:])
		g.mu.Unlock()
		if got != want {
			t.Errorf("%s passed: %v, want %v", p, got, want)
		}
	}
	mark := func(dir, name string) { g.mu.Lock(); g.mark(dir, name); g.mu.Unlock() }
	check("/d/a", false)
	mark("/d", "a")
	check("/d/a", true)
	check("/d/b", false)
	check("/a", false)
	mark("/d", "c")
	check("/d/b", true)
	mark("/e", "z")
	check("/d/z", false)
	g.finishDir("/d")
	check("/d/z", true)
	check("/x/y", false)
	woken := make(chan struct{})
	go func() { g.wait("/w/b"); g.mu.Unlock(); close(woken) }()
	for waiting := false; !waiting; runtime.Gosched() {
		select {
		case <-woken:
			t.Fatal("wait /w/b returned before the scanner passed it")
		default:
		}
		g.mu.Lock()
		waiting = g.waiting
		g.mu.Unlock()
	}
	mark("/w", "b")
	<-woken
	g.finish()
	check("/x/y", true)
}
