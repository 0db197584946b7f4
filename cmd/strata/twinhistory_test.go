package main

import (
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// twinHistory is a strata repository and a git repository written side
// by side, commit k of one the twin of commit k of the other, for log's
// comparisons with git (TestLogMatchesGit, TestLogPathsMatchesGit).
type twinHistory struct {
	t       *testing.T
	r       *repo.Repo
	gdir    string
	commits []*objects.Commit
	gids    []string     // git's commit ids, as commit-tree printed them
	child   map[int]bool // the commits that are some commit's parent
}

// newTwinHistory initialises both repositories, on branch b0.
func newTwinHistory(t *testing.T) *twinHistory {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is needed to compare log with")
	}
	r, err := repo.Init(t.TempDir(), "b0")
	if err != nil {
		t.Fatal(err)
	}
	h := &twinHistory{t: t, r: r, gdir: t.TempDir(), child: map[int]bool{}}
	h.git("", nil, "init", "-q", "-b", "b0")
	return h
}

// git runs git in the twin's directory, with stdin and env, and returns
// its output.
func (h *twinHistory) git(stdin string, env []string, args ...string) string {
	h.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = h.gdir
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+h.gdir, "GIT_AUTHOR_NAME=t",
		"GIT_AUTHOR_EMAIL=t@x", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@x")
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.Output()
	if err != nil {
		h.t.Fatalf("git %v: %v", args, err)
	}
	return string(out)
}

// randomParents picks the parents of commit k among the five before
// it: none (a root) one time in ten, a second (a merge) one time in
// three.
func randomParents(rng *rand.Rand, k int) []int {
	var ps []int
	if k > 0 && rng.Intn(10) > 0 {
		lo := max(0, k-5)
		ps = append(ps, lo+rng.Intn(k-lo))
		if q := lo + rng.Intn(k-lo); rng.Intn(3) == 0 && q != ps[0] {
			ps = append(ps, q)
		}
	}
	return ps
}

// commit writes nc with parents ps (indexes of earlier commits), and its
// git twin of tree gtree, nc's message and date, and env besides
// (another author).
func (h *twinHistory) commit(nc objects.NewCommit, ps []int, gtree string, env []string) *objects.Commit {
	h.t.Helper()
	args := []string{"commit-tree", gtree, "-m", nc.Message}
	for j, p := range ps {
		h.child[p] = true
		args = append(args, "-p", strings.TrimSpace(h.gids[p]))
		if j == 0 {
			nc.Parent = h.commits[p]
		} else {
			nc.MergeParent = h.commits[p].ID
		}
	}
	c, err := h.r.Objects.WriteCommit(nc)
	if err != nil {
		h.t.Fatal(err)
	}
	h.commits = append(h.commits, c)
	gd := fmt.Sprintf("@%d +0000", nc.Date.Unix())
	h.gids = append(h.gids, h.git("", append(env, "GIT_AUTHOR_DATE="+gd, "GIT_COMMITTER_DATE="+gd), args...))
	return c
}

// branchTips points a branch at each commit no other has for parent,
// the newest first: b0, b1, ... in both. It returns how many.
func (h *twinHistory) branchTips() int {
	h.t.Helper()
	b := 0
	for k := len(h.commits) - 1; k >= 0; k-- {
		if h.child[k] {
			continue
		}
		name := fmt.Sprintf("b%d", b)
		b++
		if err := h.r.Refs.Update(refs.Heads+name, h.commits[k].ID, "", "test"); err != nil {
			h.t.Fatal(err)
		}
		h.git("", nil, "update-ref", "refs/heads/"+name, strings.TrimSpace(h.gids[k]))
	}
	return b
}
