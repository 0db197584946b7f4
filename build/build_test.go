package build

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/exec"
	"github.com/strata-sh/strata/internal/testrootfs"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/snapshot"
)

func TestMain(m *testing.M) {
	exec.Reexec() // RUN's container init is this binary
	os.Exit(m.Run())
}

var epoch = time.Unix(1700000000, 0).UTC()

func clamp(t time.Time) time.Time {
	if t.After(epoch) {
		return epoch
	}
	return t
}

// newRepo makes a repository in a fresh directory; with base, branch main
// holds a busybox tree.
func newRepo(t testing.TB, base bool) *repo.Repo {
	t.Helper()
	r, err := repo.Init(filepath.Join(t.TempDir(), "env"), "main")
	if err != nil {
		t.Fatal(err)
	}
	if base {
		l, err := r.Objects.AddLayerFromDir(context.Background(), testrootfs.Busybox(t), layer.WriteOptions{Mtime: clamp})
		if err != nil {
			t.Fatal(err)
		}
		c, err := r.Objects.WriteCommit(objects.NewCommit{Layers: []objects.Layer{l}, Date: epoch, Message: "base", OS: runtime.GOOS, Architecture: runtime.GOARCH})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Refs.Update(refs.Heads+"main", c.ID, "", "test"); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func buildIn(t testing.TB, r *repo.Repo, ctxDir, dockerfile string) (*Result, error) {
	t.Helper()
	return Build(context.Background(), Options{Repo: r, Context: ctxDir, Dockerfile: []byte(dockerfile), Date: epoch, Mtime: clamp})
}

// Two repositories build the same recipe to the same ids, step by step.
func TestReproducibleAcrossRepositories(t *testing.T) {
	ctxDir := ctxWith(t, map[string]string{"files/a": "a", "files/sub/b": "b", "files/l": "->a"})
	recipe := "FROM scratch\nCOPY files/ /srv/\nENV A=1\nLABEL x=y\nEXPOSE 80\nCMD [\"/srv/a\"]\n"
	var chains [2][]digest.Digest
	for i := range chains {
		r := newRepo(t, false)
		res, err := buildIn(t, r, ctxDir, recipe)
		if err != nil {
			t.Fatal(err)
		}
		for id := res.Commit.ID; id != ""; {
			chains[i] = append(chains[i], id)
			if id, err = r.Objects.Parent(id); err != nil {
				t.Fatal(err)
			}
		}
		// A later mtime changes nothing: the digest leaves it out, the
		// layer clamps it.
		now := time.Now()
		os.Chtimes(filepath.Join(ctxDir, "files", "a"), now, now)
	}
	if len(chains[0]) != 5 {
		t.Fatalf("%d commits, want 5 (one per instruction after FROM)", len(chains[0]))
	}
	for j := range chains[0] {
		if chains[0][j] != chains[1][j] {
			t.Fatalf("step %d: %s in one repository, %s in the other", len(chains[0])-j+1, chains[0][j], chains[1][j])
		}
	}
}

// A failing RUN writes no blob and returns its status with the step.
func TestFailingRunCommitsNothing(t *testing.T) {
	r := newRepo(t, true)
	ctxDir := ctxWith(t, map[string]string{"f": "f"})
	count := func() int {
		n := 0
		r.Objects.Walk(func(digest.Digest, int64) error { n++; return nil })
		return n
	}
	before := count()
	_, err := buildIn(t, r, ctxDir, "FROM main\nRUN echo x > /x && exit 7\n")
	var se *StepError
	if !errors.As(err, &se) || se.ExitCode != 7 || se.Step != 2 || se.Line != 2 {
		t.Fatalf("got %v, want step 2 line 2 status 7", err)
	}
	if after := count(); after != before {
		t.Fatalf("%d blobs before, %d after a failed RUN", before, after)
	}
	left, _ := filepath.Glob(filepath.Join(r.Objects.TempDir(), "build-*"))
	if len(left) > 0 {
		t.Fatalf("left behind: %v", left)
	}
}

// readImage mounts c and returns what fn reads from it.
func readImage(t *testing.T, r *repo.Repo, c *objects.Commit, fn func(root string)) {
	t.Helper()
	b := &builder{o: Options{Repo: r}, snaps: snapshot.NewSnapshots(r.Objects)}
	ov, err := b.mount(context.Background(), c, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer ov.close()
	fn(ov.target)
}

// cancelAt cancels when a line holding at is written (a step starting).
type cancelAt struct {
	at     string
	cancel context.CancelFunc
}

func (c *cancelAt) Write(p []byte) (int, error) {
	if strings.Contains(string(p), c.at) {
		c.cancel()
	}
	return len(p), nil
}

// Ctrl-C (a cancelled context) stops the build at the step it came in,
// whether the step looks at the context (a copy, between files) or not
// (a metadata step): no result, so nothing moves.
func TestCancelStopsTheBuild(t *testing.T) {
	ctxDir := ctxWith(t, map[string]string{"d/a": "a", "d/b": "b", "f": "f"})
	for _, c := range []struct{ recipe, at string }{
		{"FROM main\nCOPY d /d\nENV A=1\n", "STEP 3/3"},
		{"FROM main\nENV A=1\nCOPY d /d\n", "STEP 3/3"},
		{"FROM main\nENV A=1\nCOPY f d /x/\n", "STEP 3/3"},
	} {
		for _, direct := range []bool{true, false} {
			directCopy = direct
			r := newRepo(t, true)
			ctx, cancel := context.WithCancel(context.Background())
			res, err := Build(ctx, Options{Repo: r, Context: ctxDir, Dockerfile: []byte(c.recipe), Date: epoch, Mtime: clamp, Out: &cancelAt{c.at, cancel}})
			cancel()
			directCopy = true
			if !errors.Is(err, context.Canceled) || res != nil {
				t.Errorf("%q direct=%v: %v, %v", c.recipe, direct, res, err)
			}
		}
	}
}
