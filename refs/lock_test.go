package refs

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/strata-sh/strata/internal/lockfile"
)

// A refs.lock whose holder died (nobody holds its flock) is taken over at
// once; one held by a live holder is not, however long it has been held.
func TestRefsLockTakeoverOnlyFromTheDead(t *testing.T) {
	s := newStore(t)
	p := filepath.Join(s.root, RefsLockFile)
	if err := os.WriteFile(p, []byte("999999\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(Heads+"main", mkdigest("a"), "", "after a dead holder"); err != nil {
		t.Fatalf("dead holder's lock not taken over: %v", err)
	}
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("refs.lock left behind: %v", err)
	}

	old := RefsLockTimeout
	RefsLockTimeout = 0
	t.Cleanup(func() { RefsLockTimeout = old })
	live, err := s.lockRefs()
	if err != nil {
		t.Fatal(err)
	}
	// An old lock file of a live holder is still its holder's.
	if err := os.Chtimes(p, atime(), atime()); err != nil {
		t.Fatal(err)
	}
	err = s.Update(Heads+"main", mkdigest("b"), mkdigest("a"), "under a live holder")
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("update under a live holder: %v", err)
	}
	live.Release()
	if err := s.Update(Heads+"main", mkdigest("b"), mkdigest("a"), "after release"); err != nil {
		t.Fatal(err)
	}
}

// A lock file made by a holder that has not flocked it yet is not stolen
// twice: whoever holds the flock of the file at the path owns it.
func TestRefsLockFlockDecides(t *testing.T) {
	s := newStore(t)
	p := filepath.Join(s.root, RefsLockFile)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	l, err := lockfile.Try(p)
	if err != nil || l == nil {
		t.Fatalf("unflocked lock not taken over: %v", err)
	}
	// The maker now fails to flock it and must not think it holds it.
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
		t.Fatal("two holders of refs.lock")
	}
	if l2, _ := lockfile.Try(p); l2 != nil {
		t.Fatal("a held refs.lock was taken over")
	}
	l.Release()
}

func atime() time.Time { return time.Unix(0, 0) }

// Update's contract: an error wrapping ErrMoved means the ref moved, any
// other error means it did not, reflog included.
func TestUpdateErrorSaysWhetherItMoved(t *testing.T) {
	s := newStore(t)
	a, b, c := mkdigest("a"), mkdigest("b"), mkdigest("c")
	if err := s.Update(Heads+"main", a, "", "create"); err != nil {
		t.Fatal(err)
	}
	s.OnUpdate = func() error { return errors.New("disk full") }
	err := s.Update(Heads+"main", b, a, "index fails")
	if !errors.Is(err, ErrMoved) {
		t.Fatalf("index failure after the move: %v, want ErrMoved", err)
	}
	if cur, _ := s.Read(Heads + "main"); cur != b {
		t.Fatalf("ErrMoved but the ref is %s", cur)
	}
	s.OnUpdate = nil

	// The reflog cannot be written: the ref must not move.
	logs := filepath.Join(s.root, "logs", "refs", "heads", "main")
	if err := os.Remove(logs); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/null/main", logs); err != nil {
		t.Fatal(err)
	}
	err = s.Update(Heads+"main", c, b, "reflog fails")
	if err == nil || errors.Is(err, ErrMoved) {
		t.Fatalf("reflog failure: %v, want an error without ErrMoved", err)
	}
	if cur, _ := s.Read(Heads + "main"); cur != b {
		t.Fatalf("ref moved to %s although Update said it did not", cur)
	}
}

// A ref move flushes its lock file before the rename unless the store
// is NoSync (git's default core.fsync, which leaves refs out).
func TestRefMoveSyncsUnlessNoSync(t *testing.T) {
	syncs := 0
	old := syncFile
	syncFile = func(f *os.File) error { syncs++; return old(f) }
	t.Cleanup(func() { syncFile = old })

	s := newStore(t)
	if err := s.Update(Heads+"main", mkdigest("a"), "", "synced"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetHeadBranch(Heads+"main", "checkout"); err != nil {
		t.Fatal(err)
	}
	if syncs != 2 {
		t.Fatalf("%d flushes for a branch update and a HEAD write, want 2", syncs)
	}
	syncs = 0
	s.NoSync = true
	if err := s.Update(Heads+"main", mkdigest("b"), mkdigest("a"), "unsynced"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetOrigHead("", mkdigest("a")); err != nil {
		t.Fatal(err)
	}
	if syncs != 0 {
		t.Fatalf("NoSync store flushed %d times", syncs)
	}
	if d, err := s.Read(Heads + "main"); err != nil || d != mkdigest("b") {
		t.Fatalf("main = %s, %v; want the new value", d, err)
	}
}
