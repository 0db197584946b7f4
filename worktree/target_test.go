package worktree

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/snapshot"
)

// rewriteState changes one field of w's state file as a hand would.
func rewriteState(t *testing.T, w *Worktree, key, value string) {
	t.Helper()
	p := filepath.Join(w.Dir, "state")
	b, err := os.ReadFile(p)
	must(t, err)
	var m map[string]any
	must(t, json.Unmarshal(b, &m))
	m[key] = value
	b, err = json.Marshal(m)
	must(t, err)
	must(t, os.WriteFile(p, b, 0o644))
}

// decoy is a directory of the host with a file, which no mount may hide.
func decoy(t *testing.T) string {
	t.Helper()
	d := filepath.Join(t.TempDir(), "victim")
	must(t, os.MkdirAll(d, 0o755))
	must(t, write(filepath.Join(d, "important"), "original\n"))
	unmountAll(t, d)
	return d
}

func wantUntouched(t *testing.T, d string) {
	t.Helper()
	if _, ok, _ := snapshot.Mounted(d); ok {
		t.Fatalf("%s was mounted over", d)
	}
	if b, err := os.ReadFile(filepath.Join(d, "important")); err != nil || string(b) != "original\n" {
		t.Fatalf("%s/important: %q, %v", d, b, err)
	}
}

// TestMainTargetIsRootfs: the main work tree is mounted at
// <project>/rootfs whatever its state names. A repository handed over
// with a state naming a host directory made strata mount its tree there.
func TestMainTargetIsRootfs(t *testing.T) {
	ctx := context.Background()
	_, _, w := checkedOutBase(t)
	must(t, w.Umount())
	victim := decoy(t)
	rewriteState(t, w, "target", victim)
	w = Main(w.Repo)
	if _, err := w.Status(ctx); err != nil {
		t.Fatal(err)
	}
	wantUntouched(t, victim)
	if mounted, err := w.isMounted(); err != nil || !mounted {
		t.Fatalf("rootfs not mounted again: %v %v", mounted, err)
	}
}

// TestExtraTargetMustBeTheRecordedDirectory: an extra work tree is
// mounted again only on the directory its first checkout made; a state
// naming another (hostile, or a copied project's) is refused, by status
// and by worktree remove, which used to mount it to look for changes.
func TestExtraTargetMustBeTheRecordedDirectory(t *testing.T) {
	ctx := context.Background()
	r, _, _ := checkedOutBase(t)
	w, err := ForPath(r, filepath.Join(t.TempDir(), "wt"))
	must(t, err)
	unmountAll(t, w.Target())
	_, err = w.Checkout(ctx, CheckoutOptions{Rev: "main", Detach: true})
	must(t, err)
	must(t, w.Umount())
	if _, err := w.Status(ctx); err != nil { // its own directory: mounted again
		t.Fatal(err)
	}
	must(t, w.Umount())

	victim := decoy(t)
	rewriteState(t, w, "target", victim)
	w, err = Named(r, w.Name)
	must(t, err)
	if _, err := w.Status(ctx); !errors.Is(err, ErrBadTarget) {
		t.Fatalf("status: %v, want %v", err, ErrBadTarget)
	}
	if err := w.Remove(ctx, 0); !errors.Is(err, ErrBadTarget) {
		t.Fatalf("remove: %v, want %v", err, ErrBadTarget)
	}
	wantUntouched(t, victim)
	must(t, w.Remove(ctx, 1)) // the way out the error names
	wantUntouched(t, victim)
}

// TestTargetThroughSymlink: a project or work tree reached through a
// symlink is the same work tree, mounted once. Paths were compared as
// typed, and a second mount was stacked over the first on the same upper.
func TestTargetThroughSymlink(t *testing.T) {
	ctx := context.Background()
	r, _, w := checkedOutBase(t)
	link := filepath.Join(t.TempDir(), "link")
	must(t, os.Symlink(r.Dir, link))
	r2, err := repo.Open(link)
	must(t, err)
	w2, err := ForPath(r2, filepath.Join(link, "rootfs"))
	must(t, err)
	if w2.Name != MainName || w2.Target() != w.Target() {
		t.Fatalf("through the link: worktree %q at %s, want the main one at %s", w2.Name, w2.Target(), w.Target())
	}
	if _, err := w2.Status(ctx); err != nil {
		t.Fatal(err)
	}
	if n := mountsAt(t, w.Target()); n != 1 {
		t.Fatalf("%d mounts at %s, want 1", n, w.Target())
	}
}

func mountsAt(t *testing.T, target string) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	must(t, err)
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == target {
			n++
		}
	}
	return n
}

// TestExtraTargetPlace: an extra work tree is refused where its mount
// would hide the project or its repository, or sit in another work tree.
func TestExtraTargetPlace(t *testing.T) {
	r, _, w := checkedOutBase(t)
	for _, p := range []string{r.Dir, filepath.Dir(r.Dir), r.Root, filepath.Join(r.Root, "wt"), filepath.Join(w.Target(), "inner")} {
		if _, err := ForPath(r, p); !errors.Is(err, ErrBadTarget) {
			t.Errorf("worktree at %s: %v, want %v", p, err, ErrBadTarget)
		}
	}
	if _, err := ForPath(r, filepath.Join(r.Dir, "second")); err != nil {
		t.Errorf("a work tree beside rootfs: %v", err)
	}
}

// TestRacingAddsOfOneName: two adds of directories with one base name,
// each named after it before either took the tree's lock. The second
// checked out the first's tree and said it had made its own.
func TestRacingAddsOfOneName(t *testing.T) {
	ctx := context.Background()
	r, _, _ := checkedOutBase(t)
	a, err := ForPath(r, filepath.Join(t.TempDir(), "wt"))
	must(t, err)
	b, err := ForPath(r, filepath.Join(t.TempDir(), "wt"))
	must(t, err)
	if a.Name != b.Name {
		t.Fatalf("names %q and %q: no race to test", a.Name, b.Name)
	}
	unmountAll(t, a.Target())
	unmountAll(t, b.Target())
	_, err = a.Checkout(ctx, CheckoutOptions{Rev: "main", Detach: true})
	must(t, err)
	_, err = b.Checkout(ctx, CheckoutOptions{Rev: "main", Detach: true})
	if err == nil || !strings.Contains(err.Error(), "meanwhile") {
		t.Fatalf("second add: %v, want an error saying the name was taken meanwhile", err)
	}
	if mounted, _ := b.isMounted(); mounted {
		t.Fatalf("%s mounted", b.Target())
	}
	if st, _, _ := a.State(); st.Target != a.Target() {
		t.Fatalf("the first tree's state names %s, want %s", st.Target, a.Target())
	}
	must(t, a.Remove(ctx, 1))
}
