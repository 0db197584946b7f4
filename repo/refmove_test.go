package repo

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
)

// testCommits writes n empty commits to r and returns their ids.
func testCommits(t testing.TB, r *Repo, n int) []digest.Digest {
	var out []digest.Digest
	for i := 0; i < n; i++ {
		c, err := r.Objects.WriteCommit(objects.NewCommit{
			Author: "t", Date: time.Unix(int64(i), 0), Message: "c", OS: "linux", Architecture: "amd64",
		})
		if err != nil {
			panic(err)
		}
		out = append(out, c.ID)
	}
	return out
}

// BenchmarkRefMove is one ref move as a commit does it: lock, compare,
// write, reflog, index.json (with 20 other refs present).
func BenchmarkRefMove(b *testing.B) {
	r, err := Init(b.TempDir(), "main")
	if err != nil {
		b.Fatal(err)
	}
	ids := testCommits(b, r, 2)
	for i := 0; i < 20; i++ {
		if err := r.Refs.Update(refs.Tags+"t"+string(rune('a'+i)), ids[0], "", "bench"); err != nil {
			b.Fatal(err)
		}
	}
	if err := r.Refs.Update(refs.Heads+"main", ids[0], "", "bench"); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := r.Refs.Update(refs.Heads+"main", ids[(i+1)%2], ids[i%2], "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestIndexEqualsRefsAfterConcurrentMoves runs 8 processes (this test
// binary re-executed) making 50 ref moves each on a shared set of names:
// 49 random ones, then a branch of its own created by all 8 at once;
// branch create, move, delete and tag create, delete. Whatever the
// interleaving, index.json must then list exactly the branches and tags.
func TestIndexEqualsRefsAfterConcurrentMoves(t *testing.T) {
	if dir := os.Getenv("STRATA_INDEX_WRITER"); dir != "" {
		if err := randomMoves(dir, os.Getenv("STRATA_INDEX_SEED"), 49); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	dir := t.TempDir()
	r, err := Init(dir, "main")
	if err != nil {
		t.Fatal(err)
	}
	testCommits(t, r, 4)
	start := filepath.Join(dir, "start")
	if err := os.Mkdir(filepath.Join(dir, "ready"), 0o755); err != nil {
		t.Fatal(err)
	}
	var cmds []*exec.Cmd
	for w := 0; w < 8; w++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestIndexEqualsRefsAfterConcurrentMoves$")
		cmd.Env = append(os.Environ(), "STRATA_INDEX_WRITER="+dir, "STRATA_INDEX_SEED="+strconv.Itoa(w))
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
		t.Cleanup(func() { cmd.Process.Kill() })
	}
	// All start at once, so that they also finish together: a stale
	// index.json shows when the last moves race.
	if err := os.WriteFile(start, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// A writer that fails never reaches the last barrier: stop the others.
	errs := make(chan error, len(cmds))
	for _, c := range cmds {
		go func() { errs <- c.Wait() }()
	}
	var failed error
	for range cmds {
		if err := <-errs; err != nil && failed == nil {
			failed = err
			for _, c := range cmds {
				c.Process.Kill()
			}
		}
	}
	if failed != nil {
		t.Fatalf("writer: %v", failed)
	}
	all, err := r.Refs.List("refs/")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]digest.Digest{}
	for _, ref := range all {
		if _, dup := want[ref.Short()]; !dup { // branches first, as in the index
			want[ref.Short()] = ref.Target
		}
	}
	idx, err := r.Objects.ReadLayoutIndex()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]digest.Digest{}
	for _, m := range idx.Manifests {
		got[m.Annotations[ocispec.AnnotationRefName]] = m.Digest
	}
	if len(want) == 0 {
		t.Fatal("the workload left no refs: the test would compare nothing")
	}
	if !maps.Equal(got, want) {
		t.Fatalf("index.json is stale:\n got %v\nwant %v", got, want)
	}
}

// randomMoves makes n ref moves on shared names; losing a race (the ref
// exists, is gone, or moved) is expected, any other error is not.
func randomMoves(dir, seed string, n int) error {
	r, err := Open(dir)
	if err != nil {
		return err
	}
	s, _ := strconv.Atoi(seed)
	rng := rand.New(rand.NewPCG(uint64(s), 42))
	ids := testCommits(nil, r, 4) // the same 4 commits the parent wrote
	if err := barrier(filepath.Join(filepath.Dir(r.Root), "start"), 1); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("%sb%d", refs.Heads, rng.IntN(6))
		switch rng.IntN(4) {
		case 0:
			name = fmt.Sprintf("%st%d", refs.Tags, rng.IntN(4))
		case 1: // a name of its own: this move cannot lose a race
			name = fmt.Sprintf("%sown-%s-%d", refs.Heads, seed, rng.IntN(3))
		}
		to := ids[rng.IntN(len(ids))]
		switch rng.IntN(3) {
		case 0:
			err = r.Refs.Update(name, to, "", "create")
		case 1:
			cur, _ := r.Refs.Read(name)
			err = r.Refs.Update(name, to, cur, "move")
		case 2:
			err = r.Refs.Delete(name, refs.Any, "delete")
		}
		if err != nil && !errors.Is(err, refs.ErrExists) && !errors.Is(err, refs.ErrStale) && !errors.Is(err, refs.ErrNotFound) {
			return fmt.Errorf("move %d of %s: %w", i, name, err)
		}
	}
	// The last moves of all 8 race each other, as in the issue: 8
	// branches created at once.
	ready := filepath.Join(filepath.Dir(r.Root), "ready")
	if err := os.WriteFile(filepath.Join(ready, seed), nil, 0o644); err != nil {
		return err
	}
	if err := barrier(ready, 8); err != nil {
		return err
	}
	return r.Refs.Update(refs.Heads+"last-"+seed, ids[0], "", "create")
}

// barrier waits until path exists, or holds n entries if a directory. A
// writer that failed never arrives (the parent then kills the others);
// the deadline only guards against a hang.
func barrier(path string, n int) error {
	for deadline := time.Now().Add(10 * time.Minute); time.Now().Before(deadline); {
		if es, err := os.ReadDir(path); err == nil && len(es) >= n {
			return nil
		} else if fi, err := os.Stat(path); err == nil && !fi.IsDir() {
			return nil
		}
		time.Sleep(time.Millisecond)
	}
	return fmt.Errorf("%s: not all writers arrived (one failed?)", path)
}
