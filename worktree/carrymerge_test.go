package worktree

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// mergeSetup makes main a tree with a file of five lines, /etc/lines,
// and a binary file, /etc/bin, and branch "new" main with the last
// line changed and the binary file too, and checks out main.
func mergeSetup(t *testing.T) *Worktree {
	t.Helper()
	requireRoot(t)
	r := newRepo(t)
	base := filepath.Join(t.TempDir(), "base")
	writeBase(t, base)
	must(t, write(base+"/etc/lines", "1\n2\n3\n4\n5\n"))
	must(t, write(base+"/etc/bin", "a\x00b\n"))
	old := commitDir(t, r, base, "base")
	top := filepath.Join(t.TempDir(), "top")
	must(t, os.MkdirAll(top+"/etc", 0o755))
	must(t, write(top+"/etc/lines", "1\n2\n3\n4\nFIVE\n"))
	must(t, write(top+"/etc/bin", "a\x00c\n"))
	nu := commitDir(t, r, top, "new")
	must(t, r.Refs.Update("refs/heads/new", nu.ID, "", "test"))
	must(t, r.Refs.Update("refs/heads/main", old.ID, nu.ID, "test"))
	return checkoutMain(t, r, "main")
}

// TestCheckoutMergeClean: with Merge, a change to a file the switch
// changes too is merged with the new commit's, as git's checkout -m
// merges it; the merge takes the mode the user gave the file; other
// changes are carried as without -m; a local change to exactly what the
// merge gives the new commit leaves no change.
func TestCheckoutMergeClean(t *testing.T) {
	for _, stacked := range []bool{false, true} {
		t.Run(map[bool]string{false: "upper", true: "stacked"}[stacked], func(t *testing.T) {
			ctx := context.Background()
			w := mergeSetup(t)
			root := w.Target()
			if stacked {
				must(t, write(root+"/committed.txt", "c\n"))
				if _, _, err := w.Commit(ctx, CommitOptions{Message: "stacked"}); err != nil {
					t.Fatal(err)
				}
			}
			must(t, write(root+"/etc/lines", "ONE\n2\n3\n4\n5\n"))
			must(t, os.Chmod(root+"/etc/lines", 0o755))
			must(t, write(root+"/new.txt", "new\n"))
			if _, err := w.Checkout(ctx, CheckoutOptions{Rev: "new"}); err == nil {
				t.Fatal("a switch without Merge carried a change over a file it changes")
			}
			if _, err := w.Checkout(ctx, CheckoutOptions{Rev: "new", Merge: true}); err != nil {
				t.Fatalf("checkout -m: %v", err)
			}
			checkCarried(t, w, []string{"M /etc/lines", "A /new.txt"}, map[string]string{
				"/etc/lines": "ONE\n2\n3\n4\nFIVE\n", "/new.txt": "new\n",
			})
			if fi, err := os.Stat(root + "/etc/lines"); err != nil || fi.Mode().Perm() != 0o755 {
				t.Errorf("merged file's mode: %v, %v; want the local 0755", fi.Mode(), err)
			}
			if h, err := w.Head(); err != nil || h.Branch != "refs/heads/new" {
				t.Errorf("HEAD after checkout -m: %+v, %v", h, err)
			}
			if exists(w.carryDir()) || exists(w.carryDir()+".tmp") {
				t.Error("checkout -m left its staged changes behind")
			}
			// Back: main's line 5 is merged in, the local line 1 stays.
			if _, err := w.Checkout(ctx, CheckoutOptions{Rev: "main", Merge: true}); err != nil {
				t.Fatalf("checkout -m back: %v", err)
			}
			checkCarried(t, w, []string{"M /etc/lines", "A /new.txt"}, map[string]string{"/etc/lines": "ONE\n2\n3\n4\n5\n"})
			// The new commit's edit made here too merges to its file: no
			// change is left there, as in git.
			must(t, write(root+"/etc/lines", "1\n2\n3\n4\nFIVE\n"))
			must(t, os.Chmod(root+"/etc/lines", 0o644))
			if _, err := w.Checkout(ctx, CheckoutOptions{Rev: "new", Merge: true}); err != nil {
				t.Fatalf("checkout -m over the new commit's own edit: %v", err)
			}
			checkCarried(t, w, []string{"A /new.txt"}, map[string]string{"/etc/lines": "1\n2\n3\n4\nFIVE\n"})
		})
	}
}

// deletedByTargetSetup is mergeSetup where "new" deletes /etc/group,
// which the view on main has changed: a switch to "new" keeps it "DU".
func deletedByTargetSetup(t *testing.T) *Worktree {
	t.Helper()
	ctx := context.Background()
	w := mergeSetup(t)
	root := w.Target()
	if _, err := w.Checkout(ctx, CheckoutOptions{Rev: "new"}); err != nil {
		t.Fatal(err)
	}
	must(t, os.Remove(root+"/etc/group"))
	if _, _, err := w.Commit(ctx, CommitOptions{Message: "no group"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Checkout(ctx, CheckoutOptions{Rev: "main"}); err != nil {
		t.Fatal(err)
	}
	must(t, write(root+"/etc/group", "mine\n"))
	return w
}

// TestCheckoutMergeKeepsDeleted: a change to a file the new commit
// deletes is kept, as git's checkout -m keeps it, and the path is
// unmerged, "deleted by us", without markers. As git refuses to commit
// it until it is added or removed, commit refuses it until the file is
// written again (touch) or deleted; then the commit takes it.
func TestCheckoutMergeKeepsDeleted(t *testing.T) {
	for name, resolve := range map[string]struct {
		do   func(p string) error
		kept bool // the commit has the file
	}{
		"touched": {func(p string) error { now := time.Now(); return os.Chtimes(p, now, now) }, true},
		"deleted": {os.Remove, false},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			w := deletedByTargetSetup(t)
			root := w.Target()
			if _, err := w.Checkout(ctx, CheckoutOptions{Rev: "new", Merge: true}); err != nil {
				t.Fatalf("checkout -m over a file the switch deletes: %v", err)
			}
			checkCarried(t, w, []string{"A /etc/group"}, map[string]string{"/etc/group": "mine\n", "/etc/lines": "1\n2\n3\n4\nFIVE\n"})
			st, _, err := w.State()
			must(t, err)
			if len(st.Unmerged) != 1 || st.Unmerged[0].Path != "/etc/group" || st.Unmerged[0].Kind != "deleted by us" || st.Unmerged[0].Marked {
				t.Errorf("unmerged: %+v", st.Unmerged)
			}
			_, _, err = w.Commit(ctx, CommitOptions{Message: "kept"})
			if !errors.Is(err, ErrConflictUntouched) || !strings.Contains(err.Error(), "/etc/group (deleted by us) is as the checkout -m left it") {
				t.Fatalf("commit of the kept file as the switch left it: %v", err)
			}
			if st, _, err := w.State(); err != nil || len(st.Unmerged) != 1 {
				t.Errorf("unmerged after a refused commit: %+v, %v", st.Unmerged, err)
			}
			must(t, resolve.do(root+"/etc/group"))
			// Deleted, nothing is left to commit: the commit says so and
			// ends the conflict, as git's rm.
			if _, _, err := w.Commit(ctx, CommitOptions{Message: "kept"}); err != nil && (resolve.kept || !errors.Is(err, ErrNothingToCommit)) {
				t.Fatalf("commit once resolved: %v", err)
			}
			checkUnmerged(t, w, nil)
			st, _, err = w.State()
			must(t, err)
			c, err := w.commit(st.Commit)
			must(t, err)
			tr, err := w.trees.Of(c)
			must(t, err)
			if (tr["/etc/group"] != nil) != resolve.kept {
				t.Errorf("the commit has /etc/group: %v, want %v", tr["/etc/group"] != nil, resolve.kept)
			}
		})
	}
}

// conflicted is /etc/lines merged by checkout -m new over a local
// "five": git's markers, the new commit above, the local file below.
const conflicted = "1\n2\n3\n4\n<<<<<<< new\nFIVE\n=======\nfive\n>>>>>>> local\n"

// TestCheckoutMergeConflict: a conflict completes the switch, as git's
// checkout -m, with markers in the file, which the work tree records as
// unmerged: a switch and a stash are refused, and so is a commit while
// the markers are left; the commit after they are gone ends them, and
// so do reset --hard and a restore of the path.
func TestCheckoutMergeConflict(t *testing.T) {
	for _, end := range []string{"commit", "reset", "restore"} {
		t.Run(end, func(t *testing.T) {
			ctx := context.Background()
			w := mergeSetup(t)
			root := w.Target()
			must(t, write(root+"/etc/lines", "1\n2\n3\n4\nfive\n"))
			if _, err := w.Checkout(ctx, CheckoutOptions{Rev: "new", Merge: true}); err != nil {
				t.Fatalf("checkout -m over a conflict: %v", err)
			}
			checkCarried(t, w, []string{"M /etc/lines"}, map[string]string{"/etc/lines": conflicted})
			checkUnmerged(t, w, []string{"/etc/lines"})
			var ue *UnmergedError
			if _, err := w.Checkout(ctx, CheckoutOptions{Rev: "main"}); !errors.As(err, &ue) {
				t.Errorf("a switch over an unmerged path: %v", err)
			}
			if _, err := w.Checkout(ctx, CheckoutOptions{NewBranch: "other"}); !errors.As(err, &ue) {
				t.Errorf("checkout -b over an unmerged path: %v", err)
			}
			if _, err := w.Stash(ctx, "", nil, false); !errors.As(err, &ue) {
				t.Errorf("a stash of an unmerged path: %v", err)
			}
			if _, _, err := w.Commit(ctx, CommitOptions{Message: "m"}); !errors.Is(err, ErrConflictLeft) {
				t.Errorf("a commit with markers left: %v", err)
			}
			checkUnmerged(t, w, []string{"/etc/lines"})
			switch end {
			case "reset":
				if _, err := w.Reset(ctx, "HEAD", ResetHard); err != nil {
					t.Fatal(err)
				}
				checkCarried(t, w, nil, map[string]string{"/etc/lines": "1\n2\n3\n4\nFIVE\n"})
			case "restore":
				// As git's restore, without a source it refuses an
				// unmerged path (the local lines are only in the file);
				// HEAD's file, written over the markers, resolves it.
				if _, err := w.Restore(ctx, "", []string{"/etc"}); !errors.Is(err, ErrUnmerged) {
					t.Fatalf("restore of an unmerged path: %v", err)
				}
				checkCarried(t, w, []string{"M /etc/lines"}, map[string]string{"/etc/lines": conflicted})
				if _, err := w.Restore(ctx, "HEAD", []string{"/etc/lines"}); err != nil {
					t.Fatal(err)
				}
				checkCarried(t, w, nil, map[string]string{"/etc/lines": "1\n2\n3\n4\nFIVE\n"})
			default:
				must(t, write(root+"/etc/lines", "1\n2\n3\n4\nFIVE five\n"))
				if _, _, err := w.Commit(ctx, CommitOptions{Message: "resolved"}); err != nil {
					t.Fatalf("a commit once the markers are gone: %v", err)
				}
			}
			checkUnmerged(t, w, nil)
			if _, err := w.Checkout(ctx, CheckoutOptions{Rev: "main"}); err != nil {
				t.Errorf("a switch once the conflict ended: %v", err)
			}
		})
	}
}

// checkUnmerged checks the paths the work tree records as unmerged.
func checkUnmerged(t *testing.T, w *Worktree, want []string) {
	t.Helper()
	st, _, err := w.State()
	must(t, err)
	var got []string
	for _, c := range st.Unmerged {
		got = append(got, c.Path)
		if !c.Marked || c.Kind != "both modified" {
			t.Errorf("unmerged %s: %+v", c.Path, c)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("unmerged paths: %q, want %q", got, want)
	}
}

// TestKilledCheckoutMerge: a checkout -m killed at each step loses
// nothing: before HEAD moved, the next command forgets the switch and
// the local file is as it was; after, it finishes it with the merge,
// written again from the view if the view took writes since (restage).
func TestKilledCheckoutMerge(t *testing.T) {
	for _, point := range []string{"checkout-carry-staged", "checkout-carry-pending", "checkout-after-ref", "switch-mounted", "switch-renamed"} {
		t.Run(point, func(t *testing.T) {
			testKilledCheckoutMerge(t, point, false)
		})
		t.Run(point+"/conflict", func(t *testing.T) {
			testKilledCheckoutMerge(t, point, true)
		})
	}
}

// testKilledCheckoutMerge: the local change conflicts or merges
// cleanly; after the kill at checkout-after-ref, a write in the view
// that conflicts, or one that merges cleanly.
func testKilledCheckoutMerge(t *testing.T, point string, conflict bool) {
	w := mergeSetup(t)
	root := w.Target()
	local, merged, later, laterMerged := "ONE\n2\n3\n4\n5\n", "ONE\n2\n3\n4\nFIVE\n", "1\n2\n3\n4\nfive\n", conflicted
	if conflict {
		local, merged, later, laterMerged = later, laterMerged, "ONE\n2\n3\n4\n5\n", "ONE\n2\n3\n4\nFIVE\n"
	}
	must(t, write(root+"/etc/lines", local))
	must(t, write(root+"/new.txt", "new\n"))
	h0, err := w.Head()
	must(t, err)
	killedHelper(t, w.Repo, point, "CHECKOUT_TEST_HELPER=checkout", "CHECKOUT_TEST_REV=new", "CHECKOUT_TEST_MERGE=1")
	if point == "checkout-after-ref" {
		// Written in the view, which still shows main: merged too. The
		// killed switch left the view read-only (freezeView) until the
		// next command; made writable by hand, as in
		// testWriteAfterKilledStagedCarry.
		must(t, setReadOnly(root, false))
		must(t, write(root+"/etc/lines", later))
	}
	_, err = w.Status(context.Background()) // finishes or forgets the switch
	must(t, err)
	h, err := w.Head()
	must(t, err)
	var unmerged []string
	switch {
	case h.Commit == h0.Commit:
		if point != "checkout-carry-staged" && point != "checkout-carry-pending" {
			t.Fatalf("HEAD did not move before %s", point)
		}
		checkCarried(t, w, []string{"M /etc/lines", "A /new.txt"}, map[string]string{"/etc/lines": local})
	case point == "checkout-after-ref":
		checkCarried(t, w, []string{"M /etc/lines", "A /new.txt"}, map[string]string{"/etc/lines": laterMerged})
		if !conflict {
			unmerged = []string{"/etc/lines"}
		}
	default:
		checkCarried(t, w, []string{"M /etc/lines", "A /new.txt"}, map[string]string{"/etc/lines": merged})
		if conflict {
			unmerged = []string{"/etc/lines"}
		}
	}
	checkUnmerged(t, w, unmerged)
	for _, d := range []string{"upper.next", "work.next", "upper.carry", "upper.carry.tmp"} {
		if exists(filepath.Join(w.Dir, d)) {
			t.Errorf("%s left behind", d)
		}
	}
	if st, _, err := w.State(); err != nil || st.PendingMerge != "" || st.PendingUnmerged != nil {
		t.Errorf("state after the switch: %+v, %v", st, err)
	}
}

// TestKilledCheckoutMergeKeptDeleted: a checkout -m that keeps a file
// the new commit deletes, killed at each step: once the next command
// has finished the switch, the file is unmerged, stamped as the view
// shows it, and a commit refuses it until it is written again.
func TestKilledCheckoutMergeKeptDeleted(t *testing.T) {
	for _, point := range []string{"checkout-carry-pending", "checkout-after-ref", "switch-mounted", "switch-renamed"} {
		t.Run(point, func(t *testing.T) {
			ctx := context.Background()
			w := deletedByTargetSetup(t)
			root := w.Target()
			h0, err := w.Head()
			must(t, err)
			killedHelper(t, w.Repo, point, "CHECKOUT_TEST_HELPER=checkout", "CHECKOUT_TEST_REV=new", "CHECKOUT_TEST_MERGE=1")
			if _, err := w.Status(ctx); err != nil { // finishes or forgets the switch
				t.Fatal(err)
			}
			h, err := w.Head()
			must(t, err)
			if h.Commit == h0.Commit {
				if point != "checkout-carry-pending" {
					t.Fatalf("HEAD did not move before %s", point)
				}
				checkCarried(t, w, []string{"M /etc/group"}, map[string]string{"/etc/group": "mine\n"})
				return
			}
			checkCarried(t, w, []string{"A /etc/group"}, map[string]string{"/etc/group": "mine\n"})
			st, _, err := w.State()
			must(t, err)
			if len(st.Unmerged) != 1 || st.Unmerged[0].Kind != "deleted by us" || st.Unmerged[0].Left == nil {
				t.Fatalf("unmerged after the switch: %+v", st.Unmerged)
			}
			if _, _, err := w.Commit(ctx, CommitOptions{Message: "kept"}); !errors.Is(err, ErrConflictUntouched) {
				t.Fatalf("commit of the kept file as the switch left it: %v", err)
			}
			now := time.Now()
			must(t, os.Chtimes(root+"/etc/group", now, now))
			if _, _, err := w.Commit(ctx, CommitOptions{Message: "kept"}); err != nil {
				t.Fatalf("commit once written again: %v", err)
			}
		})
	}
}

// TestCheckoutMergeDiff3: merge.conflictStyle diff3 shows the base in
// checkout -m's markers, labelled as git's: the branch switched from.
func TestCheckoutMergeDiff3(t *testing.T) {
	w := mergeSetup(t)
	must(t, w.Repo.Config.Set("merge.conflictStyle", "diff3"))
	must(t, write(w.Target()+"/etc/lines", "1\n2\n3\n4\nfive\n"))
	if _, err := w.Checkout(context.Background(), CheckoutOptions{Rev: "new", Merge: true}); err != nil {
		t.Fatalf("checkout -m over a conflict: %v", err)
	}
	checkCarried(t, w, []string{"M /etc/lines"}, map[string]string{
		"/etc/lines": "1\n2\n3\n4\n<<<<<<< new\nFIVE\n||||||| main\n5\n=======\nfive\n>>>>>>> local\n",
	})
}

// TestStashApplyOverUnmerged: stash apply and pop are refused over the
// unmerged paths of a checkout -m, as git's "needs merge", and write
// nothing.
func TestStashApplyOverUnmerged(t *testing.T) {
	ctx := context.Background()
	w := mergeSetup(t)
	root := w.Target()
	must(t, write(root+"/etc/stashed", "s\n"))
	s, err := w.Stash(ctx, "", nil, false)
	must(t, err)
	must(t, write(root+"/etc/lines", "1\n2\n3\n4\nfive\n"))
	if _, err := w.Checkout(ctx, CheckoutOptions{Rev: "new", Merge: true}); err != nil {
		t.Fatalf("checkout -m over a conflict: %v", err)
	}
	for _, verb := range []string{"apply", "pop"} {
		var ue *UnmergedError
		err := w.ApplyStash(ctx, s.ID, verb)
		if !errors.As(err, &ue) || !strings.HasPrefix(err.Error(), "stash "+verb+": /etc/lines needs merge") {
			t.Errorf("stash %s over an unmerged path: %v", verb, err)
		}
	}
	if _, err := os.Lstat(root + "/etc/stashed"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the refused apply wrote the stash's file: %v", err)
	}
	checkUnmerged(t, w, []string{"/etc/lines"})
}
