package worktree

import (
	"context"
	"errors"
	"net"
	"os"
	"slices"
	"testing"
)

// TestNewSocketIsNoChange: a layer cannot hold a socket, so a new one (a
// daemon's, left in /run) is no change: status passes over it and a
// commit of it alone has nothing to commit, as git ignores sockets.
// Before, status showed it, commit said "1 path changed" without storing
// it, and the tree never came clean.
func TestNewSocketIsNoChange(t *testing.T) {
	ctx := context.Background()
	_, _, w := checkedOutBase(t)
	must(t, os.MkdirAll(w.Target()+"/run", 0o755))
	l, err := net.Listen("unix", w.Target()+"/run/daemon.sock")
	must(t, err)
	defer l.Close()
	must(t, write(w.Target()+"/run/pid", "1\n"))

	cs, err := w.Status(ctx)
	must(t, err)
	if got := changeLines(cs); len(got) != 2 || got[0] != "A /run" || got[1] != "A /run/pid" {
		t.Fatalf("status with a new socket: %v", got)
	}
	_, _, err = w.Commit(ctx, CommitOptions{Message: "run"})
	must(t, err)
	if cs, err = w.Status(ctx); err != nil || len(cs) != 0 {
		t.Fatalf("status after the commit: %v, %v; want clean", changeLines(cs), err)
	}
	if _, _, err := w.Commit(ctx, CommitOptions{Message: "again"}); !errors.Is(err, ErrNothingToCommit) {
		t.Fatalf("a commit of a socket alone: %v, want ErrNothingToCommit", err)
	}
}

// TestSocketOverLowerIsDeletion: a socket bound where a committed file or
// directory was (the daemon removed it first) is that entry's deletion:
// status says so, the commit whites it out, and the tree comes clean.
// Before, status showed a type change that commit could not store, and
// the tree never came clean.
func TestSocketOverLowerIsDeletion(t *testing.T) {
	ctx := context.Background()
	_, _, w := checkedOutBase(t)
	for _, p := range []string{"/etc/group", "/data"} {
		must(t, os.RemoveAll(w.Target()+p))
		l, err := net.Listen("unix", w.Target()+p)
		must(t, err)
		defer l.Close()
	}
	want := []string{"D /data", "D /data/a", "D /data/b", "D /data/sub", "D /data/sub/c", "D /etc/group"}
	cs, err := w.Status(ctx)
	must(t, err)
	if got := changeLines(cs); !slices.Equal(got, want) {
		t.Fatalf("status with sockets over lower entries: %v, want %v", got, want)
	}
	_, _, err = w.Commit(ctx, CommitOptions{Message: "sockets"})
	must(t, err)
	if cs, err = w.Status(ctx); err != nil || len(cs) != 0 {
		t.Fatalf("status after the commit: %v, %v; want clean", changeLines(cs), err)
	}
	d, err := w.Diff(ctx, DiffOptions{Revs: []string{"main"}, Parent: true})
	must(t, err)
	if got := changeLines(d.Changes); !slices.Equal(got, want) {
		t.Fatalf("the commit's changes: %v, want %v", got, want)
	}
}
