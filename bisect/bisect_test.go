package bisect

import (
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
)

// dag is a made-up history: commit "cN" has the parents listed, and the
// date N minutes after an epoch (so that newer commits have larger N).
type dag map[string][]string

func id(name string) digest.Digest { return digest.FromString(name) }

type graph struct {
	parents map[digest.Digest][]digest.Digest
	dates   map[digest.Digest]time.Time
	names   map[digest.Digest]string
}

func build(t *testing.T, d dag, order []string) *graph {
	t.Helper()
	g := &graph{parents: map[digest.Digest][]digest.Digest{}, dates: map[digest.Digest]time.Time{}, names: map[digest.Digest]string{}}
	for i, name := range order {
		g.names[id(name)] = name
		g.dates[id(name)] = time.Unix(1700000000, 0).Add(time.Duration(i) * time.Minute)
		for _, p := range d[name] {
			g.parents[id(name)] = append(g.parents[id(name)], id(p))
		}
	}
	return g
}

func (g *graph) Parents(d digest.Digest) ([]digest.Digest, error) {
	if _, ok := g.names[d]; !ok {
		return nil, fmt.Errorf("%s: %w", d, ErrMissing)
	}
	return g.parents[d], nil
}

func (g *graph) Date(d digest.Digest) (time.Time, error) { return g.dates[d], nil }

func linear(n int) (dag, []string) {
	d := dag{}
	var order []string
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("c%d", i)
		if i > 1 {
			d[name] = []string{fmt.Sprintf("c%d", i-1)}
		}
		order = append(order, name)
	}
	return d, order
}

func ids(names ...string) []digest.Digest {
	var out []digest.Digest
	for _, n := range names {
		out = append(out, id(n))
	}
	return out
}

// TestLinearAsGit: on c1..c10 with c1 good and c10 bad, git 2.39 tests
// c5 first ("4 revisions left ... roughly 2 steps"), then, c5 good, c7.
func TestLinearAsGit(t *testing.T) {
	d, order := linear(10)
	g := build(t, d, order)
	st, err := Next(g, id("c10"), ids("c1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if g.names[st.Next] != "c5" || st.All != 9 || st.Left != 4 || st.Steps != 2 || st.Done {
		t.Fatalf("first step: %s is %s, want c5, all 9, left 4, steps 2", st, g.names[st.Next])
	}
	st, _ = Next(g, id("c10"), ids("c1", "c5"), nil)
	if g.names[st.Next] != "c7" || st.Left != 2 || st.Steps != 1 {
		t.Fatalf("second step: %s is %s, want c7, left 2, steps 1", st, g.names[st.Next])
	}
	st, _ = Next(g, id("c7"), ids("c1", "c5"), nil)
	if g.names[st.Next] != "c6" || st.Left != 0 || st.Steps != 0 {
		t.Fatalf("third step: %s is %s, want c6, left 0", st, g.names[st.Next])
	}
	st, _ = Next(g, id("c7"), ids("c1", "c6"), nil)
	if !st.Done || g.names[st.Next] != "c7" {
		t.Fatalf("last step: %s, want c7 done", st)
	}
}

// TestLinear64 finds any first bad commit of a 64-commit history in at
// most 7 tests (6 = ceil(log2 63) in fact).
func TestLinear64(t *testing.T) {
	d, order := linear(64)
	g := build(t, d, order)
	for first := 2; first <= 64; first++ {
		good, bad := []digest.Digest{id("c1")}, id("c64")
		tests := 0
		for {
			st, err := Next(g, bad, good, nil)
			if err != nil {
				t.Fatal(err)
			}
			if st.Done {
				if want := fmt.Sprintf("c%d", first); g.names[st.Next] != want {
					t.Fatalf("first bad %d: found %s", first, g.names[st.Next])
				}
				break
			}
			tests++
			n, _ := strconv.Atoi(strings.TrimPrefix(g.names[st.Next], "c"))
			if n >= first {
				bad = st.Next
			} else {
				good = append(good, st.Next)
			}
		}
		if tests > 6 {
			t.Errorf("first bad %d: %d tests, want at most 6", first, tests)
		}
	}
}

// TestMerges: a side branch merged back. Candidates follow both parents
// and the chosen commit halves them.
//
//	c1 - c2 - c3 ------- c6(merge) - c7
//	       \            /
//	        c4 ------ c5
func TestMerges(t *testing.T) {
	d := dag{"c2": {"c1"}, "c3": {"c2"}, "c4": {"c2"}, "c5": {"c4"}, "c6": {"c3", "c5"}, "c7": {"c6"}}
	order := []string{"c1", "c2", "c3", "c4", "c5", "c6", "c7"}
	g := build(t, d, order)
	cands, err := Candidates(g, id("c7"), ids("c1"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cands) != 6 {
		t.Fatalf("candidates %d, want 6 (c2..c7)", len(cands))
	}
	st, err := Next(g, id("c7"), ids("c1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Reaches: c2 1, c3 2, c4 2, c5 3, c6 5, c7 6. Halfway of 6 is 3: c5.
	if g.names[st.Next] != "c5" || st.Left != 2 {
		t.Fatalf("%s is %s, want c5 with 2 left", st, g.names[st.Next])
	}
	// c5 good: left are c3, c6, c7 (c2, c4 are c5's ancestors).
	st, _ = Next(g, id("c7"), ids("c1", "c5"), nil)
	if g.names[st.Next] != "c6" && g.names[st.Next] != "c3" {
		t.Fatalf("after c5 good: %s", g.names[st.Next])
	}
	// A good commit on the side branch only removes its own ancestors.
	cands, _ = Candidates(g, id("c7"), ids("c4"))
	if len(cands) != 4 { // c3, c5, c6, c7
		t.Fatalf("candidates with c4 good: %d, want 4", len(cands))
	}
}

func TestSkip(t *testing.T) {
	d, order := linear(10)
	g := build(t, d, order)
	st, _ := Next(g, id("c10"), ids("c1"), ids("c5"))
	if st.Next == id("c5") || st.Done {
		t.Fatalf("skipped c5 chosen again: %s", st)
	}
	// Only c6 and c7 left, c6 skipped: c7 bad, c5 good.
	st, _ = Next(g, id("c7"), ids("c5"), ids("c6"))
	if st.Done || len(st.OnlySkipped) != 2 || st.OnlySkipped[0] != id("c7") || st.OnlySkipped[1] != id("c6") {
		t.Fatalf("only skipped left: %s %v", st, st.OnlySkipped)
	}
}

func TestBadIsGood(t *testing.T) {
	d, order := linear(5)
	g := build(t, d, order)
	if _, err := Next(g, id("c2"), ids("c4"), nil); err != ErrBadIsGood {
		t.Fatalf("bad below good: %v, want ErrBadIsGood", err)
	}
}

// TestMissingParentEndsHistory: a shallow history is bisected over what
// is there.
func TestMissingParentEndsHistory(t *testing.T) {
	d, order := linear(6)
	g := build(t, d, order[1:]) // c1 is not in the store
	st, err := Next(g, id("c6"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.All != 5 {
		t.Fatalf("all %d, want 5", st.All)
	}
}

func TestEstimateSteps(t *testing.T) {
	// git's estimate_bisect_steps for these counts.
	for all, want := range map[int]int{0: 0, 2: 0, 3: 1, 4: 1, 5: 1, 6: 2, 9: 2, 12: 3, 16: 3, 63: 5, 64: 5, 100: 6} {
		if got := EstimateSteps(all); got != want {
			t.Errorf("EstimateSteps(%d) = %d, want %d", all, got, want)
		}
	}
}

// TestAgainstGit builds random histories with merges in git and checks
// that the commit chosen, and the counts printed, are those of
// git rev-list --bisect-vars (distinct commit dates, as git orders by date).
func TestAgainstGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is needed (Debian package git, in make test's packages)")
	}
	rng := rand.New(rand.NewSource(13))
	for round := 0; round < 40; round++ {
		n := 5 + rng.Intn(40)
		d := dag{}
		var order []string
		for i := 1; i <= n; i++ {
			name := fmt.Sprintf("c%d", i)
			order = append(order, name)
			if i == 1 {
				continue
			}
			// Mostly a parent among the last few, sometimes a merge.
			p1 := order[max(0, i-2-rng.Intn(min(i-1, 4)))]
			d[name] = []string{p1}
			if i > 3 && rng.Intn(4) == 0 {
				p2 := order[rng.Intn(i-1)]
				if p2 != p1 {
					d[name] = append(d[name], p2)
				}
			}
		}
		bad := order[n-1]
		goods := []string{"c1"}
		if rng.Intn(2) == 0 {
			goods = append(goods, order[1+rng.Intn(n/2)])
		}
		g := build(t, d, order)
		st, err := Next(g, id(bad), ids(goods...), nil)
		if err == ErrBadIsGood {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		want := gitBisect(t, d, order, bad, goods)
		// rev-list prints max(all-reaches, reaches)-1 where git bisect
		// prints all-reaches-1 (Left).
		reaches := st.All - st.Left - 1
		nr := max(st.All-reaches, reaches) - 1
		if got := g.names[st.Next]; got != want["rev"] || strconv.Itoa(st.All) != want["all"] || strconv.Itoa(nr) != want["nr"] || strconv.Itoa(st.Steps) != want["steps"] {
			t.Errorf("round %d (%v, bad %s, good %v): got %s all %d left %d steps %d; git says %v", round, d, bad, goods, got, st.All, st.Left, st.Steps, want)
		}
	}
}

// gitBisect makes the history in a git repository and returns what
// git rev-list --bisect-vars says: rev (a name), all, nr, steps.
func gitBisect(t *testing.T, d dag, order []string, bad string, goods []string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	git := func(env []string, args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), append([]string{"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t", "GIT_CONFIG_NOSYSTEM=1", "HOME=" + dir}, env...)...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("git %v: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	git(nil, "init", "-q", ".")
	tree := git(nil, "hash-object", "-t", "tree", "-w", "--stdin")
	sha := map[string]string{}
	name := map[string]string{}
	for i, c := range order {
		args := []string{"commit-tree", tree, "-m", c}
		for _, p := range d[c] {
			args = append(args, "-p", sha[p])
		}
		date := fmt.Sprintf("GIT_COMMITTER_DATE=%d +0000", 1700000000+60*i)
		sha[c] = git([]string{date, "GIT_AUTHOR_DATE=" + strings.TrimPrefix(date, "GIT_COMMITTER_DATE=")}, args...)
		name[sha[c]] = c
	}
	args := []string{"rev-list", "--bisect-vars", sha[bad]}
	for _, g := range goods {
		args = append(args, "^"+sha[g])
	}
	out := map[string]string{}
	for _, line := range strings.Split(git(nil, args...), "\n") {
		k, v, _ := strings.Cut(line, "=")
		v = strings.Trim(v, "'")
		switch k {
		case "bisect_rev":
			out["rev"] = name[v]
		case "bisect_all":
			out["all"] = v
		case "bisect_nr":
			out["nr"] = v
		case "bisect_steps":
			out["steps"] = v
		}
	}
	return out
}

// TestDeepLinear: 50,000 commits are weighed without recursion, and the
// middle is chosen (49,999 candidates: the oldest that reaches 24,999).
func TestDeepLinear(t *testing.T) {
	d, order := linear(50000)
	g := build(t, d, order)
	st, err := Next(g, id("c50000"), ids("c1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := g.names[st.Next]; got != "c25000" || st.Left != 24999 {
		t.Fatalf("%s is %s, want c25000 with 24999 left", st, got)
	}
}
