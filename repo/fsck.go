package repo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"sync"

	"github.com/opencontainers/go-digest"
)

// Problem is one thing fsck found wrong.
type Problem struct {
	Object string `json:"object"` // a blob digest, a ref name or a file
	What   string `json:"problem"`
}

func (p Problem) String() string { return p.Object + ": " + p.What }

// FsckResult is what fsck checked and found.
type FsckResult struct {
	Blobs    int       `json:"blobs"`
	Refs     int       `json:"refs"`
	Commits  int       `json:"commits"`
	Problems []Problem `json:"problems"`
}

// Fsck verifies every blob against its digest, and that every ref and HEAD
// points at a complete commit whose history is complete.
func (r *Repo) Fsck(ctx context.Context) (FsckResult, error) {
	res := FsckResult{Problems: []Problem{}}
	bad, n, err := r.verifyBlobs(ctx)
	if err != nil {
		return res, err
	}
	res.Blobs = n
	res.Problems = append(res.Problems, bad...)
	badBlob := map[string]bool{}
	for _, p := range bad {
		badBlob[p.Object] = true
	}

	all, err := r.Refs.List("refs/")
	if err != nil {
		return res, err
	}
	res.Refs = len(all)
	checked := map[digest.Digest]bool{}
	for _, ref := range all {
		res.Problems = append(res.Problems, r.checkHistory(ref.Name, ref.Target, checked, badBlob)...)
	}
	if h, err := r.Refs.ReadHead(); err != nil {
		res.Problems = append(res.Problems, Problem{"HEAD", err.Error()})
	} else if h.Detached() {
		res.Problems = append(res.Problems, r.checkHistory("HEAD", h.Commit, checked, badBlob)...)
	}
	res.Commits = len(checked)
	sort.Slice(res.Problems, func(i, j int) bool { return res.Problems[i].Object < res.Problems[j].Object })
	return res, nil
}

// checkHistory checks commit d and its ancestors through every parent,
// each once. A missing parent ends its line of history, reported unless
// the commit is a shallow boundary (a merge there may still have one
// parent, which is checked).
func (r *Repo) checkHistory(name string, d digest.Digest, checked map[digest.Digest]bool, badBlob map[string]bool) []Problem {
	var out []Problem
	shallow := r.Shallow()
	stack := []digest.Digest{d}
	for len(stack) > 0 {
		d := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if d == "" || checked[d] {
			continue
		}
		checked[d] = true
		c, err := r.Objects.ReadCommit(d)
		if err != nil {
			out = append(out, Problem{name, fmt.Sprintf("commit %s: %v", d.Encoded()[:12], err)})
			continue
		}
		for _, l := range c.Manifest.Layers {
			if !r.Objects.Has(l.Digest) {
				out = append(out, Problem{name, fmt.Sprintf("commit %s: layer %s is missing", d.Encoded()[:12], l.Digest)})
			} else if badBlob[l.Digest.String()] {
				out = append(out, Problem{name, fmt.Sprintf("commit %s: layer %s is corrupt", d.Encoded()[:12], l.Digest)})
			}
		}
		ps := c.Parents()
		for i := len(ps) - 1; i >= 0; i-- {
			p := ps[i]
			if !r.Objects.Has(p) {
				if shallow[d] {
					continue // a fetch found it gone: the history is cut here
				}
				what := "parent"
				if i > 0 {
					what = "merge parent"
				}
				out = append(out, Problem{name, fmt.Sprintf("commit %s: %s %s is missing", d.Encoded()[:12], what, p.Encoded()[:12])})
				continue
			}
			stack = append(stack, p)
		}
	}
	return out
}

// verifyBlobs rehashes every blob, using every core.
func (r *Repo) verifyBlobs(ctx context.Context) ([]Problem, int, error) {
	var (
		mu   sync.Mutex
		bad  []Problem
		n    int
		wg   sync.WaitGroup
		work = make(chan digest.Digest)
	)
	for i := 0; i < runtime.NumCPU(); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range work {
				if err := hashFile(r.Objects.BlobPath(d), d); err != nil {
					mu.Lock()
					bad = append(bad, Problem{d.String(), err.Error()})
					mu.Unlock()
				}
			}
		}()
	}
	err := r.Objects.Walk(func(d digest.Digest, size int64) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		n++
		work <- d
		return nil
	})
	close(work)
	wg.Wait()
	return bad, n, err
}

func hashFile(path string, want digest.Digest) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want.Encoded() {
		return fmt.Errorf("content does not match its digest (it hashes to sha256:%s)", got[:12])
	}
	return nil
}
