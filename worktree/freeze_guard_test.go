package worktree

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// guardedSwaps are the commands that mount a fresh upper in place of
// the view, refusing users unless forced: reset --hard (the CLI's and
// build -t's), --abort and --skip. Each is run on a tree stopped on a
// cherry-pick, which --abort and --skip need and reset ends, but build
// -t's, which wants a clean tree.
var guardedSwaps = []struct {
	name  string
	clean bool
	do    func(w *Worktree) error
}{
	{"reset --hard", false, func(w *Worktree) error {
		_, err := w.ResetWith(context.Background(), ResetOptions{Rev: "HEAD", Mode: ResetHard})
		return err
	}},
	{"build -t's reset", true, func(w *Worktree) error {
		h, err := w.Head()
		if err != nil {
			return err
		}
		_, err = w.ResetClean(context.Background(), "HEAD", h.Branch, h.Commit)
		return err
	}},
	{"cherry-pick --abort", false, func(w *Worktree) error {
		_, err := w.Abort(context.Background(), OpCherryPick, false)
		return err
	}},
	{"cherry-pick --skip", false, func(w *Worktree) error {
		_, err := w.Skip(context.Background(), OpCherryPick, false)
		return err
	}},
}

// stoppedPickSetup is a work tree stopped on a conflicted cherry-pick
// (the second of two, so --skip has one to drop), *.log excluded.
func stoppedPickSetup(t *testing.T, clean bool) *Worktree {
	t.Helper()
	ctx := context.Background()
	r := newRepo(t)
	dir := t.TempDir()
	must(t, os.MkdirAll(dir+"/etc", 0o755))
	must(t, write(dir+"/etc/conf", "v1\n"))
	commitDir(t, r, dir, "base")
	w := checkoutMain(t, r, "main")
	must(t, write(filepath.Join(r.Root, "info", "exclude"), "*.log\n"))
	_, err := w.Checkout(ctx, CheckoutOptions{Rev: "main", NewBranch: "theirs"})
	must(t, err)
	must(t, write(w.Target()+"/etc/conf", "theirs\n"))
	_, _, err = w.Commit(ctx, CommitOptions{Message: "theirs"})
	must(t, err)
	must(t, write(w.Target()+"/etc/other", "other\n"))
	_, _, err = w.Commit(ctx, CommitOptions{Message: "other"})
	must(t, err)
	_, err = w.Checkout(ctx, CheckoutOptions{Rev: "main"})
	must(t, err)
	must(t, write(w.Target()+"/etc/conf", "ours\n"))
	_, _, err = w.Commit(ctx, CommitOptions{Message: "ours"})
	must(t, err)
	out, err := w.CherryPick(ctx, ReplayOptions{Revs: []string{"theirs~1", "theirs"}})
	must(t, err)
	if out.Conflicts == nil {
		t.Fatal("the cherry-pick did not stop on its conflict")
	}
	if clean {
		_, err := w.Abort(ctx, OpCherryPick, true)
		must(t, err)
	}
	return w
}

// TestSwapRefusesAFileOpenForWriting: a file open for writing in the
// view keeps it from freezing, so each of these swaps is refused before
// anything moves, as checkout is. The fd is this process's, which the
// scan for users passes over, as it misses a writer that opens after
// it. Before, the swap went on unfrozen (HEAD had moved: freezeForSwap
// gave up), and a log written meanwhile (from the mount hook, by a real
// shell) went with the old upper, though an excluded file is never
// dropped.
func TestSwapRefusesAFileOpenForWriting(t *testing.T) {
	for _, swap := range guardedSwaps {
		t.Run(swap.name, func(t *testing.T) {
			w := stoppedPickSetup(t, swap.clean)
			f, err := os.OpenFile(w.Target()+"/open.log", os.O_CREATE|os.O_WRONLY, 0o644)
			must(t, err)
			defer f.Close()
			var wrote error
			w.beforeMount = func(upper string) {
				if filepath.Base(upper) == "upper.next" {
					wrote = exec.Command("sh", "-c", `echo late > "$1/late.log"`, "sh", w.Target()).Run()
				}
			}
			err = swap.do(w)
			w.beforeMount = nil
			if _, lerr := os.Stat(w.Target() + "/late.log"); err == nil && wrote == nil && lerr != nil {
				t.Fatalf("%s went on, and a log written during it was lost: %v", swap.name, lerr)
			}
			if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "open for writing") {
				t.Fatalf("%s with a file open for writing in the view: %v", swap.name, err)
			}
			must(t, f.Close())
			checkThawedWriting(t, w, "/writable.log")
			if s, ok, err := w.Sequence(); err != nil || ok != !swap.clean || ok && !s.Stopped {
				t.Fatalf("the refused %s ended the cherry-pick: %v, %v", swap.name, ok, err)
			}
			must(t, swap.do(w))
			if _, err := os.Stat(w.Target() + "/open.log"); err != nil {
				t.Errorf("/open.log after %s: %v", swap.name, err)
			}
			checkThawedWriting(t, w, "/writable.log")
		})
	}
}

// TestSwapRefusesARealWriter: a shell that holds an excluded log open
// for writing (a daemon's log) refuses each swap, naming it, before
// anything moves, as the CLI refused reset --hard before it took the
// lock; once the shell wrote and closed it, the swap goes on and keeps
// every line. Before, build -t's reset, --abort and --skip went on, and
// left the shell on the old mount, detached.
func TestSwapRefusesARealWriter(t *testing.T) {
	for _, swap := range guardedSwaps {
		t.Run(swap.name, func(t *testing.T) {
			w := stoppedPickSetup(t, swap.clean)
			sh := shellIn(t, "/")
			pid := strings.TrimSpace(sh("echo $$"))
			sh(`exec 3>>"` + w.Target() + `/app.log"; echo one >&3`)
			err := swap.do(w)
			if err == nil {
				sh("echo two >&3; exec 3>&-")
				if b, _ := os.ReadFile(w.Target() + "/app.log"); string(b) != "one\ntwo\n" {
					t.Fatalf("%s went on, and the writer's next line is not in the tree: %q", swap.name, b)
				}
			}
			var iu *InUseError
			if !errors.As(err, &iu) || !strings.Contains(err.Error(), "in use by 1 process: "+pid+" (busybox, writing /app.log)") {
				t.Fatalf("%s with a writer in the view: %v; want it named, %s", swap.name, err, pid)
			}
			if out := sh("echo two >&3 && exec 3>&- && echo ok"); out != "ok\n" {
				t.Fatalf("the writer after the refused %s: %q", swap.name, out)
			}
			must(t, swap.do(w))
			if b, err := os.ReadFile(w.Target() + "/app.log"); err != nil || string(b) != "one\ntwo\n" {
				t.Errorf("/app.log after %s: %q, %v", swap.name, b, err)
			}
		})
	}
}

// TestThawAfterKillIsTold: the next command after a reset --hard killed
// with the tree frozen makes it writable and tells ThawNotice which
// command left it read-only (the CLI says so on stderr); one that finds
// nothing frozen tells nothing. Before, the thaw was silent, and a user
// who met "Read-only file system" learned nothing from status.
func TestThawAfterKillIsTold(t *testing.T) {
	w := stashSetup(t)
	var told []string
	ThawNotice = func(by string) { told = append(told, by) }
	defer func() { ThawNotice = nil }()
	killedHelper(t, w.Repo, "switch-prepared", "CHECKOUT_TEST_HELPER=hard", "CHECKOUT_TEST_REV=HEAD")
	if _, err := w.Status(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := filepath.Base(os.Args[0]) + " -test.run=^$"
	if len(told) != 1 || told[0] != want {
		t.Fatalf("told after the killed reset: %q, want [%q]", told, want)
	}
	checkThawedWriting(t, w, "/writable.log")
	if _, err := w.Status(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(told) != 1 {
		t.Errorf("told again with nothing frozen: %q", told)
	}
}
