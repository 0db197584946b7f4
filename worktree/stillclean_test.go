package worktree

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
)

// aheadOfMain commits a change on main and resets main back: it returns
// the base and a child of it that main can fast-forward to.
func aheadOfMain(t *testing.T) (*Worktree, *objects.Commit, *objects.Commit) {
	t.Helper()
	_, base, w := checkedOutBase(t)
	ctx := context.Background()
	must(t, write(w.Target()+"/etc/motd", "upstream\n"))
	next, _, err := w.Commit(ctx, CommitOptions{Message: "upstream"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Reset(ctx, base.ID.String(), ResetHard); err != nil {
		t.Fatal(err)
	}
	return w, base, next
}

// checkUnmoved checks that main and HEAD are still at base, and that
// the file written is still in the view, as written.
func checkUnmoved(t *testing.T, w *Worktree, base *objects.Commit, name, content string) {
	t.Helper()
	if d, _ := w.Repo.Refs.Read(refs.Heads + "main"); d != base.ID {
		t.Errorf("main moved to %s", d)
	}
	if h, _ := w.Head(); h.Commit != base.ID || h.Branch != refs.Heads+"main" {
		t.Errorf("HEAD moved: %+v", h)
	}
	if b, err := os.ReadFile(w.Target() + name); err != nil || string(b) != content {
		t.Errorf("%s after the refusal: %q, %v (want %q)", name, b, err, content)
	}
	if b, _ := os.ReadFile(w.Target() + "/etc/motd"); string(b) == "upstream\n" {
		t.Errorf("the view shows the new commit's /etc/motd")
	}
}

// TestPullFastForwardKeepsWriteDuringFetch: pull checks the work tree
// clean before its fetch (PrepareBranchUpdate); a file written in it
// during the fetch was dropped by the fast-forward's hard reset. It is
// refused now, in git's words, with nothing moved.
func TestPullFastForwardKeepsWriteDuringFetch(t *testing.T) {
	for _, keep := range []bool{true, false} {
		w, base, next := aheadOfMain(t)
		ctx := context.Background()
		u, err := PrepareBranchUpdate(ctx, w, "main", false, keep)
		if err != nil {
			t.Fatal(err)
		}
		must(t, write(w.Target()+"/during-fetch", "mine\n")) // the fetch runs
		_, err = u.FastForward(ctx, next.ID, "pull: fast-forward")
		var oe *OverwrittenError
		if !errors.As(err, &oe) || !errors.Is(err, ErrDirty) ||
			!strings.HasPrefix(err.Error(), "Your local changes to the following files would be overwritten by merge: A /during-fetch;") {
			t.Fatalf("keep %v: the fast-forward over a write made during the fetch: %v", keep, err)
		}
		checkUnmoved(t, w, base, "/during-fetch", "mine\n")
		checkThawed(t, w)
	}
}
