package loggraph

import (
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// shape is a history: commits oldest first, each naming its parents
// (earlier commits), a date each, and the tips log starts from.
type shape struct {
	name    string
	commits []node
	tips    []string
}

type node struct {
	name    string
	parents []string
	date    int64
}

// seq builds a shape whose dates follow the order of the commits; "b1<r"
// is b1 with parent r, "m<a2,b2" a merge.
func seq(name string, tips string, commits ...string) shape {
	s := shape{name: name, tips: strings.Fields(tips)}
	for i, c := range commits {
		n, ps, _ := strings.Cut(c, "<")
		var parents []string
		if ps != "" {
			parents = strings.Split(ps, ",")
		}
		s.commits = append(s.commits, node{n, parents, int64(1_700_000_000 + 60*i)})
	}
	return s
}

var shapes = []shape{
	seq("linear", "c", "a", "b<a", "c<b"),
	seq("merge", "m", "r", "a1<r", "b1<r", "a2<a1", "b2<b1", "m<a2,b2"),
	seq("merge, branch older", "m", "r", "b1<r", "b2<b1", "a1<r", "a2<a1", "m<a2,b2"),
	seq("merge then more", "t", "r", "a1<r", "b1<r", "m<a1,b1", "t<m"),
	seq("two tips", "a2 b2", "r", "a1<r", "b1<r", "a2<a1", "b2<b1"),
	seq("three tips", "a b c", "r", "a<r", "b<r", "c<r"),
	seq("criss-cross", "x y", "r", "a<r", "b<r", "x<a,b", "y<b,a"),
	seq("merge of a merge", "n", "r", "a<r", "b<r", "c<r", "m<a,b", "n<m,c"),
	seq("merge into the side", "t", "r", "a<r", "b<r", "c<a", "m<b,c", "t<c,m"),
	seq("side merged twice", "t", "r", "a1<r", "b1<r", "m1<a1,b1", "b2<b1", "a2<m1", "m2<a2,b2", "t<m2"),
	seq("fast-forward merge", "m", "r", "a<r", "b<a", "m<b,a"),
	seq("two roots", "m", "r1", "r2", "a<r1", "m<a,r2"),
	seq("long side", "m", "r", "b1<r", "b2<b1", "b3<b2", "a1<r", "m<a1,b3", "z<r"),
	seq("tips in the middle", "a3 b1 a1", "r", "a1<r", "b1<a1", "a2<a1", "a3<a2,b1"),
}

// randomShape makes a history of n commits with merges and several tips;
// skew gives dates out of order, same gives all one date.
func randomShape(rng *rand.Rand, i int) shape {
	n := 4 + rng.Intn(22)
	s := shape{name: fmt.Sprintf("random %d", i)}
	child := map[string]bool{}
	mode := i % 3
	for k := 0; k < n; k++ {
		name := fmt.Sprintf("c%d", k)
		var parents []string
		if k > 0 && rng.Intn(12) > 0 {
			pick := func() string {
				lo := max(0, k-6)
				return fmt.Sprintf("c%d", lo+rng.Intn(k-lo))
			}
			p := pick()
			parents = append(parents, p)
			if rng.Intn(3) == 0 {
				if q := pick(); q != p {
					parents = append(parents, q)
				}
			}
		}
		for _, p := range parents {
			child[p] = true
		}
		date := int64(1_700_000_000 + 60*k)
		switch mode {
		case 1:
			date = int64(1_700_000_000 + 60*rng.Intn(n))
		case 2:
			date = 1_700_000_000
		}
		s.commits = append(s.commits, node{name, parents, date})
	}
	for _, c := range s.commits {
		if !child[c.name] {
			s.tips = append(s.tips, c.name)
		}
	}
	rng.Shuffle(len(s.tips), func(a, b int) { s.tips[a], s.tips[b] = s.tips[b], s.tips[a] })
	return s
}

// gitRepo builds s in a scratch git repository with empty commits and
// returns a function that runs git log with args, tips last.
func gitRepo(t *testing.T, s shape) func(args ...string) string {
	t.Helper()
	dir := t.TempDir()
	run := func(env []string, args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir, "GIT_AUTHOR_NAME=t",
			"GIT_AUTHOR_EMAIL=t@x", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@x")
		cmd.Env = append(cmd.Env, env...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("git %v: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	run(nil, "init", "-q")
	const emptyTree = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
	ids := map[string]string{}
	for _, c := range s.commits {
		args := []string{"commit-tree", emptyTree, "-m", c.name}
		for _, p := range c.parents {
			args = append(args, "-p", ids[p])
		}
		date := fmt.Sprintf("@%d +0000", c.date)
		ids[c.name] = run([]string{"GIT_AUTHOR_DATE=" + date, "GIT_COMMITTER_DATE=" + date}, args...)
	}
	for _, tip := range s.tips {
		run(nil, "update-ref", "refs/heads/"+tip, ids[tip])
	}
	return func(args ...string) string {
		args = append([]string{"log"}, args...)
		for _, tip := range s.tips {
			args = append(args, "refs/heads/"+tip)
		}
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("git %v: %v", args, err)
		}
		return string(out)
	}
}

func (s shape) dag() DAG {
	byName := map[string]node{}
	for _, c := range s.commits {
		byName[c.name] = c
	}
	return DAG{
		Parents: func(id string) []string { return byName[id].parents },
		Date:    func(id string) int64 { return byName[id].date },
	}
}

// draw is what strata prints for s: git log --graph --format=%s.
func (s shape) draw() string {
	g := s.dag()
	var b strings.Builder
	var gr Graph
	for _, c := range g.Sort(g.Walk(s.tips), true) {
		b.WriteString(gr.Entry(c, g.Parents(c), c+"\n", false))
	}
	return b.String()
}

func allShapes() []shape {
	out := append([]shape(nil), shapes...)
	rng := rand.New(rand.NewSource(13))
	for i := 0; i < 36; i++ {
		out = append(out, randomShape(rng, i))
	}
	return out
}

// TestGraphMatchesGit draws each shape and compares it, byte for byte,
// with git log --graph on the same history; and checks that date order
// and graph order list commits as git log --date-order and --topo-order.
func TestGraphMatchesGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is needed to compare the graph with")
	}
	for _, s := range allShapes() {
		gitLog := gitRepo(t, s)
		want := gitLog("--graph", "--format=%s")
		if got := s.draw(); got != want {
			t.Errorf("%s: strata draws\n%s\ngit draws\n%s", s.name, got, want)
		}
		// git's default format: several lines an entry, a blank line
		// between entries, "Merge:" lines.
		plain := gitLog("--topo-order", "--format=medium")
		var medium strings.Builder
		var gr Graph
		g := s.dag()
		for i, c := range g.Sort(g.Walk(s.tips), true) {
			text, rest, _ := strings.Cut(plain, "\ncommit ")
			if i > 0 {
				text = "commit " + text
			}
			plain = rest // the blank line before "commit" is the separator
			medium.WriteString(gr.Entry(c, g.Parents(c), text, i > 0))
		}
		if want := gitLog("--graph", "--format=medium"); medium.String() != want {
			t.Errorf("%s: strata draws\n%s\ngit draws\n%s", s.name, medium.String(), want)
		}
		for _, o := range []struct {
			flag  string
			graph bool
		}{{"--date-order", false}, {"--topo-order", true}} {
			want := strings.Fields(gitLog(o.flag, "--format=%s"))
			got := g.Sort(g.Walk(s.tips), o.graph)
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("%s %s: strata %v, git %v", s.name, o.flag, got, want)
			}
		}
	}
}
