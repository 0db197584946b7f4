package worktree

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// writeDuringStep runs op with a real process writing name into the
// view from the hook at a step's computation, after the operation's
// start checked the tree clean, and checks that the write failed as
// read-only or was kept: never taken, then dropped with the upper that
// the fresh mount at the end replaces.
func writeDuringStep(t *testing.T, w *Worktree, what, name string, op func() error) {
	t.Helper()
	root := w.Target()
	var wrote error
	var out []byte
	ran := false
	w.beforeStep = func() {
		if !ran {
			ran = true
			out, wrote = exec.Command("sh", "-c", `echo late > "$1/$2"`, "sh", root, name).CombinedOutput()
		}
	}
	defer func() { w.beforeStep = nil }()
	if err := op(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if !ran {
		t.Fatalf("%s computed no step", what)
	}
	b, err := os.ReadFile(root + "/" + name)
	if wrote == nil && (err != nil || string(b) != "late\n") {
		t.Errorf("a write made during %s succeeded and was lost: %q, %v", what, b, err)
	}
	if wrote != nil && !strings.Contains(string(out), "Read-only file system") {
		t.Errorf("the write during %s failed otherwise: %v: %s", what, wrote, out)
	}
}

// TestWriteDuringOperationStartNotLost: merge, rebase, cherry-pick and
// revert check the tree clean as they start, and end by mounting a
// fresh upper (done, or stopped on a conflict). A file written between
// (a real process, run as the step is computed) went with the old
// upper; the tree is read-only from the check now. The merge stops on
// its conflict: its markers are still written, through the new mount.
func TestWriteDuringOperationStartNotLost(t *testing.T) {
	for _, c := range []struct {
		what string
		op   func(w *Worktree) error
	}{
		{"cherry-pick", func(w *Worktree) error {
			_, err := w.CherryPick(context.Background(), ReplayOptions{Revs: []string{"theirs"}})
			return err
		}},
		{"revert", func(w *Worktree) error {
			_, err := w.Revert(context.Background(), ReplayOptions{Revs: []string{"HEAD"}})
			return err
		}},
		{"rebase", func(w *Worktree) error {
			_, err := w.Rebase(context.Background(), RebaseOptions{Upstream: "main", Branch: "theirs"})
			return err
		}},
		{"merge", func(w *Worktree) error {
			out, err := w.Merge(context.Background(), MergeOptions{Rev: "theirs"})
			if err == nil && out.Conflicts == nil {
				t.Error("merge: no conflict")
			}
			return err
		}},
	} {
		t.Run(c.what, func(t *testing.T) {
			w := stoppedPickSetup(t, true)
			writeDuringStep(t, w, c.what, "etc/late", func() error { return c.op(w) })
			if c.what == "merge" {
				if b, _ := os.ReadFile(w.Target() + "/etc/conf"); !strings.Contains(string(b), "<<<<<<<") {
					t.Errorf("the stopped merge's /etc/conf has no markers: %q", b)
				}
			}
			checkThawedWriting(t, w, "/after.log")
		})
	}
}

// TestWriteDuringContinueNotLost: --continue after a cherry-pick killed
// between its steps starts that run of steps over, then ends by
// mounting a fresh upper. A file written after --continue's checks
// (here as the step is computed) went with the old upper. (After a
// stop, the resolved step's commit stacks on the mount, which keeps
// its upper: such a write stayed.)
func TestWriteDuringContinueNotLost(t *testing.T) {
	w := stoppedPickSetup(t, true)
	killedHelper(t, w.Repo, "cherry-pick-step-1", "CHECKOUT_TEST_HELPER=pick", "CHECKOUT_TEST_REV=theirs")
	writeDuringStep(t, w, "cherry-pick --continue", "etc/late", func() error {
		_, err := w.Continue(context.Background(), ContinueOptions{Op: OpCherryPick})
		return err
	})
	if b, _ := os.ReadFile(w.Target() + "/etc/other"); string(b) != "other\n" {
		t.Errorf("/etc/other after --continue: %q", b)
	}
	checkThawedWriting(t, w, "/after.log")
}
