package worktree

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestSameMtime(t *testing.T) {
	sec := func(s, ns int64) time.Time { return time.Unix(s, ns) }
	for _, tc := range []struct {
		name           string
		old, nu        time.Time
		ctime, settled int64
		trusted        bool
	}{
		{"the same time, unchanged since before the scan", sec(100, 5), sec(100, 5), 150, 200, true},
		{"the same whole second, unchanged since before the scan", sec(100, 0), sec(100, 0), 150, 200, true},
		// restore, tar -x and cp -p set a file's mtime to its entry's:
		// only a ctime before the scan vouches for it.
		{"the same time, written since the scan", sec(100, 5), sec(100, 5), 500, 200, false},
		{"the same time, no settled scan", sec(100, 0), sec(100, 0), 500, 0, false},
		{"no settled scan", sec(100, 0), sec(100, 7), 100, 0, false},
		{"unchanged since before the scan", sec(100, 0), sec(100, 7), 150, 200, true},
		{"a future mtime, unchanged since before the scan", sec(900, 0), sec(900, 7), 150, 200, true},
		{"changed in the scan's own second", sec(100, 0), sec(100, 7), 200, 200, false},
		{"changed after the scan", sec(100, 0), sec(100, 7), 250, 200, false},
		{"another second", sec(100, 0), sec(101, 7), 150, 200, false},
		{"an entry with nanoseconds", sec(100, 3), sec(100, 7), 150, 200, false},
	} {
		if got := sameMtime(tc.old, tc.nu, tc.ctime, tc.settled); got != tc.trusted {
			t.Errorf("%s: sameMtime(%v, %v, %d, %d) = %v, want %v", tc.name, tc.old, tc.nu, tc.ctime, tc.settled, got, tc.trusted)
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
// neither counts the committed files as changed nor hashes them again,
// and sees what changed since, though its stat may look the same: a
// write of the same size with the mtime put back within the committed
// second, and an xattr set. Both moved the file's ctime past the scan.
func TestStatusAfterWholeSecondCommit(t *testing.T) {
	ctx := context.Background()
	r, _, w := checkedOutBase(t)
	seconds := func(t time.Time) time.Time { return t.Truncate(time.Second) }

	past, future := time.Unix(1_000_000_000, 0), time.Now().Add(1000*time.Hour).Truncate(time.Second)
	for name, at := range map[string]time.Time{"past": past, "future": future, "xattr": past} {
		p := filepath.Join(w.Target(), name)
		must(t, write(p, "aaaa\n"))
		must(t, os.Chtimes(p, at, at.Add(100*time.Millisecond)))
	}
	// The scan must begin in a later second than the writes: a file
	// changed in the scan's own second is always hashed.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
	c, _, err := w.Commit(ctx, CommitOptions{Message: "two", Mtime: seconds})
	must(t, err)
	entries, err := r.Objects.LayerIndex(c.Layers()[len(c.Layers())-1])
	must(t, err)
	for _, e := range entries {
		if e.ModTime.Nanosecond() != 0 {
			t.Errorf("layer entry %s has mtime %v, want whole seconds", e.Path, e.ModTime)
		}
	}
	st, _, err := w.State()
	must(t, err)
	if st.settled() == 0 {
		t.Fatal("the commit recorded no settled scan")
	}
	hashed := filesHashed.Load()
	if cs, err := w.Status(ctx); err != nil || len(cs) != 0 {
		t.Fatalf("status right after the commit = %v, %v; want clean", changeLines(cs), err)
	}
	if n := filesHashed.Load() - hashed; n != 0 {
		t.Errorf("status right after the commit hashed %d files, want none", n)
	}

	for name, at := range map[string]time.Time{"past": past, "future": future} {
		p := filepath.Join(w.Target(), name)
		must(t, write(p, "bbbb\n"))
		must(t, os.Chtimes(p, at, at.Add(700*time.Millisecond)))
	}
	// An xattr set since: its ctime moved, so its xattrs are read again.
	must(t, unix.Setxattr(filepath.Join(w.Target(), "xattr"), "user.note", []byte("set"), 0))
	cs, err := w.Status(ctx)
	must(t, err)
	if got := changeLines(cs); !slices.Equal(got, []string{"M /future", "M /past", "M /xattr"}) {
		t.Fatalf("status after same-size writes within the committed seconds and an xattr = %q, want M /future, /past and /xattr", got)
	}
}
