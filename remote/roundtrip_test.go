package remote

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/strata-sh/strata/internal/testregistry"
	"github.com/strata-sh/strata/refs"
)

// Push, clone elsewhere, change, push, pull back: the same commit ids
// everywhere.
func TestPushClonePullRoundTrip(t *testing.T) {
	ctx := context.Background()
	reg := testregistry.Start(t)
	url := reg.Repo("team/env")

	a := newRepo(t)
	commitFile(t, a, "main", "etc/one", "1")
	tip := commitFile(t, a, "main", "etc/two", "2")
	s := connect(t, a, "origin", url, Options{})
	res, err := s.Push(ctx, a, refs.Heads+"main", PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Commits != 2 || res.Sent != 4 || res.New != tip {
		t.Fatalf("first push: %+v", res)
	}
	if got := mustRead(t, a, "refs/remotes/origin/main"); got != tip {
		t.Fatalf("tracking ref %s, want %s", got, tip)
	}

	bdir := filepath.Join(t.TempDir(), "b")
	b, cres, err := Clone(ctx, url, bdir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if cres.Branch != "main" || cres.Commit != tip {
		t.Fatalf("clone: %+v", cres)
	}
	if fmt.Sprint(history(t, b, tip)) != fmt.Sprint(history(t, a, tip)) {
		t.Fatalf("cloned history differs:\n%v\n%v", history(t, b, tip), history(t, a, tip))
	}
	checkFsck(t, b)

	tip2 := commitFile(t, b, "main", "etc/three", "3")
	sb := connect(t, b, "origin", url, Options{})
	res, err = sb.Push(ctx, b, refs.Heads+"main", PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Commits != 1 || res.Sent != 2 || res.Old != tip {
		t.Fatalf("push of one new commit should send its layer, config and manifest: %+v", res)
	}

	fres, err := s.Fetch(ctx, a, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fres.Commits != 1 || fres.Blobs != 2 {
		t.Fatalf("fetch: %+v", fres)
	}
	if _, err := a.FastForward("main", mustRead(t, a, "refs/remotes/origin/main"), "pull"); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, a, refs.Heads+"main"); got != tip2 {
		t.Fatalf("after pull main is %s, want %s", got, tip2)
	}
	checkFsck(t, a)

	// Nothing new: nothing sent.
	res, err = s.Push(ctx, a, refs.Heads+"main", PushOptions{})
	if err != nil || !res.UpToDate {
		t.Fatalf("no-op push: %+v %v", res, err)
	}
}

func TestNonFastForwardRefused(t *testing.T) {
	ctx := context.Background()
	reg := testregistry.Start(t)
	url := reg.Repo("env")
	a, b := newRepo(t), newRepo(t)
	commitFile(t, a, "main", "a", "a")
	commitFile(t, b, "main", "b", "b")
	if _, err := connect(t, a, "origin", url, Options{}).Push(ctx, a, refs.Heads+"main", PushOptions{}); err != nil {
		t.Fatal(err)
	}
	sb := connect(t, b, "origin", url, Options{})
	_, err := sb.Push(ctx, b, refs.Heads+"main", PushOptions{})
	if !errors.Is(err, ErrNonFastForward) {
		t.Fatalf("push over another history: %v, want ErrNonFastForward", err)
	}
	res, err := sb.Push(ctx, b, refs.Heads+"main", PushOptions{Force: true})
	if err != nil || !res.Forced {
		t.Fatalf("push --force: %+v %v", res, err)
	}
	// The other side now cannot fast-forward its branch onto the remote.
	sa := connect(t, a, "origin", url, Options{})
	if _, err := sa.Fetch(ctx, a, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := a.FastForward("main", mustRead(t, a, "refs/remotes/origin/main"), "pull"); !errors.Is(err, ErrNonFastForward) {
		t.Fatalf("pull of a diverged branch: %v", err)
	}
}

func TestHistoryOf50Commits(t *testing.T) {
	ctx := context.Background()
	reg := testregistry.Start(t)
	url := reg.Repo("deep")
	a := newRepo(t)
	var tip = commitFile(t, a, "main", "f0", "0")
	for i := 1; i < 50; i++ {
		tip = commitFile(t, a, "main", fmt.Sprintf("f%d", i), fmt.Sprint(i))
	}
	res, err := connect(t, a, "origin", url, Options{}).Push(ctx, a, refs.Heads+"main", PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Commits != 50 {
		t.Fatalf("pushed %d commits, want 50", res.Commits)
	}
	b, _, err := Clone(ctx, url, filepath.Join(t.TempDir(), "b"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	hb, ha := history(t, b, tip), history(t, a, tip)
	if len(hb) != 50 || fmt.Sprint(hb) != fmt.Sprint(ha) {
		t.Fatalf("history: got %d commits, want 50 identical", len(hb))
	}
	checkFsck(t, b)
}

// --compression gzip sends a converted history that other tools read and
// that clones, layer for layer, with the same diff ids.
func TestPushGzip(t *testing.T) {
	ctx := context.Background()
	reg := testregistry.Start(t)
	url := reg.Repo("gz")
	a, tip := threeCommits(t)
	res, err := connect(t, a, "origin", url, Options{}).Push(ctx, a, refs.Heads+"main", PushOptions{Compression: "gzip"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Commits != 3 || res.New == tip {
		t.Fatalf("gzip push: %+v", res)
	}
	b, cres, err := Clone(ctx, url, filepath.Join(t.TempDir(), "b"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	bc, _ := b.Resolve("main")
	ac, _ := a.Resolve("main")
	if cres.Commit != res.New || len(history(t, b, res.New)) != 3 || bc.Layers()[2].Desc.MediaType != "application/vnd.oci.image.layer.v1.tar+gzip" ||
		bc.Config.RootFS.DiffIDs[2] != ac.Config.RootFS.DiffIDs[2] {
		t.Fatalf("clone of a gzip push: %+v", bc.Manifest)
	}
	// The same history converts to the same ids: a second push is a no-op.
	res, err = connect(t, a, "origin", url, Options{}).Push(ctx, a, refs.Heads+"main", PushOptions{Compression: "gzip"})
	if err != nil || !res.UpToDate {
		t.Fatalf("second gzip push: %+v %v", res, err)
	}
}
