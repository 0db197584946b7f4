package worktree

import (
	"context"
	"os"
	"reflect"
	"testing"

	"github.com/strata-sh/strata/tree"
)

// TestResetSoftKeepsTheTree: as in git, reset --soft moves the branch and
// leaves the files as they are, so what the dropped commit changed shows
// as uncommitted, and committing again gives the same tree.
func TestResetSoftKeepsTheTree(t *testing.T) {
	ctx := context.Background()
	_, _, w := checkedOutBase(t)
	root := w.Target()
	// The commit that reset --soft will drop: a modification, an
	// addition in a new directory, a deletion and a chmod.
	must(t, write(root+"/etc/hostname", "changed\n"))
	must(t, os.MkdirAll(root+"/opt/app", 0o750))
	must(t, write(root+"/opt/app/run", "#!/bin/sh\n"))
	must(t, os.Remove(root+"/data/b"))
	must(t, os.Chmod(root+"/data/a", 0o600))
	dropped, _, err := w.Commit(ctx, CommitOptions{Message: "dropped"})
	must(t, err)
	// And an uncommitted change on top, which must survive too.
	must(t, write(root+"/data/sub/c", "uncommitted\n"))
	before := describe(t, root)

	_, err = w.Reset(ctx, "main~1", ResetSoft)
	must(t, err)
	compareTrees(t, before, describe(t, root))
	cs, err := w.Status(ctx)
	must(t, err)
	want := []string{"M /data/a", "D /data/b", "M /data/sub/c", "M /etc/hostname", "A /opt", "A /opt/app", "A /opt/app/run"}
	if got := changeLines(cs); !reflect.DeepEqual(got, want) {
		t.Fatalf("status after reset --soft:\n%v\nwant\n%v", got, want)
	}
	again, _, err := w.Commit(ctx, CommitOptions{Message: "again"})
	must(t, err)
	tDropped, err := w.trees.Of(dropped)
	must(t, err)
	tAgain, err := w.trees.Of(again)
	must(t, err)
	for _, ch := range tree.DiffTrees(tDropped, tAgain, nil) {
		if ch.Path != "/data/sub/c" {
			t.Errorf("recommitted tree differs from the dropped commit at %s (%c)", ch.Path, ch.Kind)
		}
	}
}
