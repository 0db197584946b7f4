package worktree

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestSameMtime(t *testing.T) {
	sec := func(s, ns int64) time.Time { return time.Unix(s, ns) }
	for _, tc := range []struct {
		name    string
		old, nu time.Time
		settled int64
		trusted bool
	}{
		{"the same time", sec(100, 5), sec(100, 5), 0, true},
		{"the same whole second", sec(100, 0), sec(100, 0), 0, true},
		{"no settled scan", sec(100, 0), sec(100, 7), 0, false},
		{"within the second, before the scan", sec(100, 0), sec(100, 7), 101, true},
		{"within the scan's own second", sec(100, 0), sec(100, 7), 100, false},
		{"within a second after the scan", sec(100, 0), sec(100, 7), 99, false},
		{"another second", sec(100, 0), sec(101, 7), 200, false},
		{"an entry with nanoseconds", sec(100, 3), sec(100, 7), 200, false},
	} {
		if got := sameMtime(tc.old, tc.nu, tc.settled); got != tc.trusted {
			t.Errorf("%s: sameMtime(%v, %v, %d) = %v, want %v", tc.name, tc.old, tc.nu, tc.settled, got, tc.trusted)
		}
	}
}

// TestSettledOnlyForItsCommit: the scan's second vouches only for the
// commit it made; a work tree moved to another commit (reset --soft)
// keeps its upper, which that scan never compared with the other tree.
func TestSettledOnlyForItsCommit(t *testing.T) {
	st := State{Commit: "sha256:b"}
	st.stack("sha256:c", time.Unix(500, 3))
	if got := st.settled(); got != 500 {
		t.Fatalf("settled after a commit = %d, want 500", got)
	}
	st.Commit = "sha256:d"
	if got := st.settled(); got != 0 {
		t.Fatalf("settled on another commit = %d, want 0", got)
	}
	st.stack("sha256:e", time.Time{})
	if got := st.settled(); got != 0 {
		t.Fatalf("settled after a commit whose scan is unknown = %d, want 0", got)
	}
}

// TestStatusAfterWholeSecondCommit: a commit writes whole-second mtimes
// (as the CLI does) while the work tree keeps its own. The next status
// trusts a committed file whose mtime stays in its second when that
// second is before the commit's scan (it does not hash it again: a file
// changed to the same size and a time in that second is trusted, as git
// trusts a file of the same stat), and hashes one whose second is not
// (a write after the scan can share it), so that such a change shows.
func TestStatusAfterWholeSecondCommit(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	r := newRepo(t)
	base := filepath.Join(t.TempDir(), "base")
	writeBase(t, base)
	commitDir(t, r, base, "base")
	w := checkoutMain(t, r, "main")
	seconds := func(t time.Time) time.Time { return t.Truncate(time.Second) }

	past, future := time.Unix(1_000_000_000, 0), time.Now().Add(1000*time.Hour).Truncate(time.Second)
	for name, at := range map[string]time.Time{"past": past, "future": future} {
		p := filepath.Join(w.Target(), name)
		must(t, write(p, "aaaa\n"))
		must(t, os.Chtimes(p, at, at.Add(100*time.Millisecond)))
	}
	c, _, err := w.Commit(ctx, CommitOptions{Message: "two", Mtime: seconds})
	must(t, err)
	entries, err := r.Objects.LayerIndex(c.Layers()[len(c.Layers())-1])
	must(t, err)
	for _, e := range entries {
		if e.ModTime.Nanosecond() != 0 {
			t.Errorf("layer entry %s has mtime %v, want whole seconds", e.Path, e.ModTime)
		}
	}
	if cs, err := w.Status(ctx); err != nil || len(cs) != 0 {
		t.Fatalf("status right after the commit = %v, %v; want clean", changeLines(cs), err)
	}

	for name, at := range map[string]time.Time{"past": past, "future": future} {
		p := filepath.Join(w.Target(), name)
		must(t, write(p, "bbbb\n"))
		must(t, os.Chtimes(p, at, at.Add(700*time.Millisecond)))
	}
	cs, err := w.Status(ctx)
	must(t, err)
	if got := changeLines(cs); !slices.Equal(got, []string{"M /future"}) {
		t.Fatalf("status after same-size writes within the committed seconds = %q, want only M /future", got)
	}
}
