package main

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/repo"
)

// onelineHeader is --oneline's.
var onelineHeader = commitHeader{pretty: &prettyFormat{name: "oneline"}}

// TestLogPathsMatchesGit writes random histories with merges whose
// commits change a few files, as strata commits (a merge: ours' layers
// plus one with what theirs changed since the merge base, sometimes more)
// and as git commits with the same trees, and compares log -- PATH and
// log --graph -- PATH with git's: the same commits, the same picture.
func TestLogPathsMatchesGit(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	paths := []string{"p0", "p1", "p2"}
	for i := 0; i < 10; i++ {
		h := newTwinHistory(t)
		r, git := h.r, h.git
		n := 4 + rng.Intn(14)
		var trees []map[string]string
		index := map[digest.Digest]int{}
		for k := 0; k < n; k++ {
			ps := randomParents(rng, k)
			tree := map[string]string{}
			if len(ps) > 0 {
				tree = maps.Clone(trees[ps[0]])
			}
			if len(ps) == 2 {
				b, err := repo.MergeBase(r.Objects, h.commits[ps[0]].ID, h.commits[ps[1]].ID)
				base := map[string]string{}
				if err == nil {
					base = trees[index[b]]
				}
				for p, v := range trees[ps[1]] {
					if base[p] != v {
						tree[p] = v
					}
				}
			}
			if len(ps) < 2 || rng.Intn(4) == 0 {
				tree[paths[rng.Intn(len(paths))]] = fmt.Sprintf("c%d", k)
			}
			// The new layer writes what differs from the first parent.
			var ls []objects.Layer
			var prev map[string]string
			if len(ps) > 0 {
				prev = trees[ps[0]]
			}
			dir := t.TempDir()
			changed := false
			for p, v := range tree {
				if prev[p] != v {
					changed = true
					if err := os.WriteFile(filepath.Join(dir, p), []byte(v), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			if changed {
				fixed := func(time.Time) time.Time { return time.Unix(1700000000, 0) }
				l, err := r.Objects.AddLayerFromDir(context.Background(), dir, layer.WriteOptions{Mtime: fixed})
				if err != nil {
					t.Fatal(err)
				}
				ls = append(ls, l)
			}
			date := time.Unix(1_700_000_000+60*int64(k), 0).UTC()
			if i%2 == 1 {
				date = time.Unix(1_700_000_000+60*int64(rng.Intn(n)), 0).UTC()
			}
			nc := objects.NewCommit{Author: "t <t@x>", Date: date, Message: fmt.Sprintf("c%d", k), Layers: ls, OS: "linux", Architecture: "amd64"}
			// git: the same tree, of blobs.
			var lines []string
			for p, v := range tree {
				blob := strings.TrimSpace(git(v, nil, "hash-object", "-w", "--stdin"))
				lines = append(lines, "100644 blob "+blob+"\t"+p)
			}
			sort.Strings(lines)
			gtree := strings.TrimSpace(git(strings.Join(lines, "\n")+"\n", nil, "mktree"))
			c := h.commit(nc, ps, gtree, nil)
			index[c.ID] = k
			trees = append(trees, tree)
		}
		h.branchTips()
		ids := regexp.MustCompile(`[0-9a-f]{12} (\([^)]*\) )?`)
		for _, p := range paths {
			for _, tc := range []struct {
				o   logOptions
				git []string
			}{
				{logOptions{max: -1, hdr: onelineHeader, graph: true}, []string{"--graph", "HEAD"}},
				{logOptions{max: -1, hdr: onelineHeader, graph: true, pseudo: logAll}, []string{"--graph", "--all"}},
				{logOptions{max: -1, hdr: onelineHeader, pseudo: logAll}, []string{"--date-order", "--all"}},
				{logOptions{max: -1, hdr: onelineHeader, graph: true, pseudo: logAll, noMerges: true}, []string{"--graph", "--all", "--no-merges"}},
			} {
				if i%2 == 1 && !tc.o.graph {
					continue // git's plain order is not topological when dates are skewed
				}
				var out bytes.Buffer
				revs := []string{"HEAD"}
				if tc.o.pseudo != nil {
					revs = nil
				}
				err := runLog(&out, r, revs, []string{"/" + p}, tc.o)
				if err != nil && !strings.Contains(err.Error(), "did not match") {
					t.Fatal(err)
				}
				got := ids.ReplaceAllString(out.String(), "")
				want := git("", nil, append(append([]string{"log", "--format=%s"}, tc.git...), "--", p)...)
				if got != want {
					t.Errorf("history %d, log %v -- %s: strata\n%s\ngit\n%s", i, tc.git, p, got, want)
				}
			}
		}
	}
}
