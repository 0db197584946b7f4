package worktree

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/snapshot"
)

// TestMain doubles as a helper process: CHECKOUT_TEST_HELPER=commit runs
// one commit of the main work tree of the project in CHECKOUT_TEST_DIR
// (checkout, hard, keep and reset-soft: to CHECKOUT_TEST_REV; stash: one
// whole-tree stash; pick: a cherry-pick of CHECKOUT_TEST_REV).
func TestMain(m *testing.M) {
	if os.Getenv("CHECKOUT_TEST_HELPER") == "swapper" {
		runSwapper() // the escape suite's container (escape_test.go)
	}
	if h := os.Getenv("CHECKOUT_TEST_HELPER"); h == "commit" || h == "checkout" || h == "keep" || h == "reset-soft" || h == "stash" || h == "hard" || h == "pick" {
		r, err := repo.Open(os.Getenv("CHECKOUT_TEST_DIR"))
		rev := os.Getenv("CHECKOUT_TEST_REV")
		if err == nil {
			switch h {
			case "commit":
				_, _, err = Main(r).Commit(context.Background(), CommitOptions{Message: "from helper"})
			case "stash":
				_, err = Main(r).Stash(context.Background(), "", nil, false)
			case "hard":
				_, err = Main(r).Reset(context.Background(), rev, ResetHard)
			case "pick":
				_, err = Main(r).CherryPick(context.Background(), ReplayOptions{Revs: []string{rev}})
			case "keep":
				_, err = Main(r).Reset(context.Background(), rev, ResetKeep)
			case "reset-soft":
				_, err = Main(r).Reset(context.Background(), rev, ResetSoft)
			default:
				_, err = Main(r).Checkout(context.Background(), CheckoutOptions{Rev: rev, Merge: os.Getenv("CHECKOUT_TEST_MERGE") != ""})
			}
		}
		if err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := m.Run()
	if bench.dir != "" {
		os.RemoveAll(bench.dir)
	}
	os.Exit(code)
}

// killedCommit runs a commit in another process, SIGKILLs it when it
// reaches hook point, and returns the repository's HEAD before.
func killedCommit(t *testing.T, r *repo.Repo, point string) {
	t.Helper()
	killedHelper(t, r, point, "CHECKOUT_TEST_HELPER=commit")
}

// killedHelper runs the helper env names in another process and
// SIGKILLs it when it reaches hook point.
func killedHelper(t *testing.T, r *repo.Repo, point string, env ...string) {
	t.Helper()
	marker := filepath.Join(t.TempDir(), "reached")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CHECKOUT_TEST_DIR="+r.Dir, "STRATA_TEST_HOOK="+point+":"+marker)
	cmd.Env = append(cmd.Env, env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	must(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		if _, err := os.Stat(marker); err == nil {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("helper ended before %s: %v: %s", point, err, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	must(t, cmd.Process.Signal(syscall.SIGKILL))
	<-done
}

func TestKilledCommit(t *testing.T) {
	requireRoot(t)
	for _, point := range []string{"commit-before-ref", "commit-after-ref"} {
		t.Run(point, func(t *testing.T) {
			ctx := context.Background()
			r, old, w := checkedOutBase(t)
			must(t, write(w.Target()+"/etc/passwd", "changed\n"))
			must(t, write(w.Target()+"/new", "new\n"))

			killedCommit(t, r, point)

			h, err := r.Refs.ReadHead()
			must(t, err)
			cs, err := w.Status(ctx) // finishes or forgets the switch
			must(t, err)
			switch point {
			case "commit-before-ref":
				if h.Commit != old.ID {
					t.Fatalf("HEAD moved to %s by a commit killed before its ref moved", h.Commit)
				}
				if got := strings.Join(changeLines(cs), ","); got != "M /etc/passwd,A /new" {
					t.Errorf("status after the kill: %s", got)
				}
			case "commit-after-ref":
				if h.Commit == old.ID {
					t.Fatalf("HEAD did not move")
				}
				if len(cs) != 0 {
					t.Errorf("status after an interrupted switch: %q", changeLines(cs))
				}
			}
			for name, want := range map[string]string{"/etc/passwd": "changed\n", "/new": "new\n"} {
				if b, err := os.ReadFile(w.Target() + name); err != nil || string(b) != want {
					t.Errorf("%s after the kill: %q, %v", name, b, err)
				}
			}
			// And the next commit works.
			must(t, write(w.Target()+"/later", "x"))
			_, _, err = w.Commit(ctx, CommitOptions{Message: "after"})
			must(t, err)
		})
	}
}

func TestDirtySwitchRefused(t *testing.T) {
	ctx := context.Background()
	_, first, w := checkedOutBase(t)
	must(t, write(w.Target()+"/a", "a"))
	_, _, err := w.Commit(ctx, CommitOptions{Message: "a"})
	must(t, err)
	// A change to a file the switch removes: refused.
	must(t, write(w.Target()+"/a", "dirty\n"))
	_, err = w.Checkout(ctx, CheckoutOptions{Rev: first.ID.String()})
	var de *DirtyError
	if !errors.As(err, &de) || !errors.Is(err, ErrDirty) || !strings.Contains(err.Error(), "M /a") {
		t.Fatalf("dirty switch: %v", err)
	}
	if b, _ := os.ReadFile(w.Target() + "/a"); string(b) != "dirty\n" {
		t.Errorf("refused switch changed the work tree: %q", b)
	}
	// Same commit (a new branch): allowed, changes kept.
	_, err = w.Checkout(ctx, CheckoutOptions{NewBranch: "topic"})
	must(t, err)
	if b, _ := os.ReadFile(w.Target() + "/a"); string(b) != "dirty\n" {
		t.Errorf("checkout -b lost the change: %q", b)
	}
	_, err = w.Checkout(ctx, CheckoutOptions{Rev: first.ID.String(), Force: true})
	must(t, err)
	if _, err := os.Stat(w.Target() + "/a"); !os.IsNotExist(err) {
		t.Errorf("/a after switching to the first commit: %v", err)
	}
}

// TestBadLayerLeavesNoSnapshot: a layer that Unpack refuses leaves no
// snapshot, half or whole, behind.
func TestBadLayerLeavesNoSnapshot(t *testing.T) {
	requireRoot(t)
	r := newRepo(t)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "ok", Typeflag: tar.TypeReg, Size: 2, Mode: 0o644})
	tw.Write([]byte("ok"))
	tw.WriteHeader(&tar.Header{Name: "../evil", Typeflag: tar.TypeReg, Size: 1, Mode: 0o644})
	tw.Write([]byte("x"))
	tw.Close()
	info, err := r.Objects.AddLayer(context.Background(), bytes.NewReader(buf.Bytes()),
		ocispec.Descriptor{Digest: digestOf(""), MediaType: ocispec.MediaTypeImageLayer}, "")
	if err != nil {
		// AddLayer checks the blob digest; store it under its real one.
		desc, perr := r.Objects.Put(context.Background(), bytes.NewReader(buf.Bytes()), "")
		must(t, perr)
		info.Desc, info.DiffID = desc, desc.Digest
	}
	s := snapshot.NewSnapshots(r.Objects)
	snapDir := filepath.Join(r.Objects.Root(), "snapshots")
	_, err = s.Ensure(context.Background(), snapshot.SnapshotRef{ID: info.DiffID.Encoded(), Layers: []objects.Layer{{Desc: info.Desc, DiffID: info.DiffID}}})
	if err == nil || !strings.Contains(err.Error(), "evil") {
		t.Fatalf("hostile layer: %v", err)
	}
	entries, _ := os.ReadDir(snapDir)
	if len(entries) != 0 {
		t.Errorf("left in snapshots: %v", entries)
	}
	if _, err := os.Stat(filepath.Join(snapDir, "..", "evil")); err == nil {
		t.Errorf("../evil was written")
	}
}
