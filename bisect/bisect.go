// Package bisect chooses the next commit to test in a bisection, as git
// bisect does: the candidates are the commits reachable from the bad
// commit and from none of the good ones (every parent of a merge is
// followed), and the next to test is the candidate that best halves them.
//
// It knows commits only as a graph (Graph), so that the choice is tested
// on made-up histories without a store.
package bisect

import (
	"errors"
	"fmt"
	"math/bits"
	"sort"
	"time"

	"github.com/opencontainers/go-digest"
)

// Graph is what a bisection reads of the history.
type Graph interface {
	// Parents lists a commit's parents, first parent first. An error
	// wrapping ErrMissing ends that line of history (a shallow clone).
	Parents(digest.Digest) ([]digest.Digest, error)
	// Date orders the candidates as git's rev-list does: newest first.
	Date(digest.Digest) (time.Time, error)
}

// ErrMissing is wrapped by a Graph's error for a commit that is not in the
// store: the walk treats it as the end of history.
var ErrMissing = errors.New("commit not in the store")

// ErrBadIsGood: the bad commit is a good one or an ancestor of one.
var ErrBadIsGood = errors.New("the bad commit is reachable from a good one")

// Step is the outcome of one choice.
type Step struct {
	// Next is the commit to test, or the first bad commit when Done.
	Next digest.Digest
	// Done: Next is the first bad commit.
	Done bool
	// OnlySkipped is set when every candidate left but the bad one was
	// skipped: the first bad commit is one of these (bad first).
	OnlySkipped []digest.Digest
	// All is how many candidates there are (the bad one included).
	All int
	// Left is how many revisions are left to test after Next, as git
	// prints it: All minus those Next reaches minus one.
	Left int
	// Steps is git's estimate of the steps still needed.
	Steps int
}

// Candidates returns the commits reachable from bad and from none of good,
// in the order a walk from bad meets them (bad first).
func Candidates(g Graph, bad digest.Digest, good []digest.Digest) ([]digest.Digest, error) {
	goodSet := map[digest.Digest]bool{}
	if err := walk(g, good, nil, func(d digest.Digest) { goodSet[d] = true }); err != nil {
		return nil, err
	}
	if goodSet[bad] {
		return nil, ErrBadIsGood
	}
	var out []digest.Digest
	err := walk(g, []digest.Digest{bad}, goodSet, func(d digest.Digest) { out = append(out, d) })
	return out, err
}

// walk visits every commit reachable from starts, breadth first, except
// those in stop and their ancestors (unless reachable another way).
func walk(g Graph, starts []digest.Digest, stop map[digest.Digest]bool, visit func(digest.Digest)) error {
	seen := map[digest.Digest]bool{}
	var queue []digest.Digest
	for _, s := range starts {
		if !seen[s] && !stop[s] {
			seen[s] = true
			queue = append(queue, s)
		}
	}
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		ps, err := g.Parents(d)
		if errors.Is(err, ErrMissing) {
			continue // not here: neither a candidate nor a way further
		}
		if err != nil {
			return err
		}
		visit(d)
		for _, p := range ps {
			if !seen[p] && !stop[p] {
				seen[p] = true
				queue = append(queue, p)
			}
		}
	}
	return nil
}

// Next chooses the next commit to test between bad and good, never one
// of skip unless nothing else is left.
func Next(g Graph, bad digest.Digest, good, skip []digest.Digest) (Step, error) {
	cands, err := Candidates(g, bad, good)
	if err != nil {
		return Step{}, err
	}
	list, err := oldestFirst(g, cands)
	if err != nil {
		return Step{}, err
	}
	n := len(list)
	w, err := weigh(g, list)
	if err != nil {
		return Step{}, err
	}
	skipped := map[digest.Digest]bool{}
	for _, s := range skip {
		skipped[s] = true
	}
	anySkipped := false
	for _, c := range list {
		anySkipped = anySkipped || skipped[c]
	}
	var best int
	if anySkipped {
		best = bestNotSkipped(list, w, skipped)
	} else {
		best = w.pick()
	}
	st := Step{Next: list[best], All: n, Left: n - w.weight[best] - 1, Steps: EstimateSteps(n)}
	if st.Next == bad {
		st.Left, st.Steps = 0, 0
		if anySkipped {
			st.OnlySkipped = []digest.Digest{bad}
			for _, c := range cands {
				if skipped[c] && c != bad {
					st.OnlySkipped = append(st.OnlySkipped, c)
				}
			}
		} else {
			st.Done = true
		}
	}
	return st, nil
}

// oldestFirst orders the candidates as git's find_bisection sees them:
// rev-list's order (newest commit date first; the walk's order among
// equal dates), reversed.
func oldestFirst(g Graph, cands []digest.Digest) ([]digest.Digest, error) {
	dates := make(map[digest.Digest]time.Time, len(cands))
	for _, c := range cands {
		t, err := g.Date(c)
		if err != nil && !errors.Is(err, ErrMissing) {
			return nil, err
		}
		dates[c] = t
	}
	list := append([]digest.Digest(nil), cands...)
	sort.SliceStable(list, func(i, j int) bool { return dates[list[i]].After(dates[list[j]]) })
	for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
		list[i], list[j] = list[j], list[i]
	}
	return list, nil
}

// weights holds, for each candidate of list, how many candidates it
// reaches (itself included), and its parents among the candidates.
type weights struct {
	list    []digest.Digest
	weight  []int
	parents [][]int // indexes into list
}

func weigh(g Graph, list []digest.Digest) (*weights, error) {
	index := make(map[digest.Digest]int, len(list))
	for i, c := range list {
		index[c] = i
	}
	w := &weights{list: list, weight: make([]int, len(list)), parents: make([][]int, len(list))}
	for i, c := range list {
		ps, err := g.Parents(c)
		if err != nil && !errors.Is(err, ErrMissing) {
			return nil, err
		}
		for _, p := range ps {
			if j, ok := index[p]; ok {
				w.parents[i] = append(w.parents[i], j)
			}
		}
	}
	// A merge reaches its candidates by a walk; one parent reaches one
	// more than that parent (git's "single strand of pearls"); none, 1.
	for i := range list {
		if len(w.parents[i]) > 1 {
			w.weight[i] = w.countReachable(i)
		}
	}
	done := make([]bool, len(list))
	// fill walks down a chain of single parents to a known weight, a
	// merge or a root, then numbers the chain back up: a loop, so that a
	// deep linear history does not recurse once per commit.
	fill := func(i int) {
		if done[i] || len(w.parents[i]) > 1 {
			return
		}
		var chain []int
		j := i
		for !done[j] && len(w.parents[j]) == 1 {
			chain = append(chain, j)
			j = w.parents[j][0]
		}
		if !done[j] && len(w.parents[j]) == 0 { // a root of the candidate set
			w.weight[j], done[j] = 1, true
		}
		base := w.weight[j]
		for k := len(chain) - 1; k >= 0; k-- {
			base++
			w.weight[chain[k]], done[chain[k]] = base, true
		}
	}
	for i := range list {
		fill(i)
	}
	return w, nil
}

// countReachable counts the candidates i reaches, itself included.
func (w *weights) countReachable(i int) int {
	seen := make([]uint64, (len(w.list)+63)/64)
	stack := []int{i}
	seen[i/64] |= 1 << (i % 64)
	for len(stack) > 0 {
		j := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, p := range w.parents[j] {
			if seen[p/64]&(1<<(p%64)) == 0 {
				seen[p/64] |= 1 << (p % 64)
				stack = append(stack, p)
			}
		}
	}
	n := 0
	for _, s := range seen {
		n += bits.OnesCount64(s)
	}
	return n
}

// halfway is git's shortcut: a commit that reaches half the candidates
// (or one off for an odd count) is as good as any.
func (w *weights) halfway(i int) bool {
	d := 2*w.weight[i] - len(w.list)
	return d >= -1 && d <= 1
}

// pick reproduces git's do_find_bisection without skipped commits: it
// stops at the first halfway commit in the order git learns weights
// (merges first, then chains from the oldest), else takes the first of
// the best in list order.
func (w *weights) pick() int {
	n := len(w.list)
	known := make([]bool, n)
	counted := 0
	for i := range w.list {
		if len(w.parents[i]) == 0 {
			known[i] = true
			counted++
		}
	}
	for i := range w.list {
		if len(w.parents[i]) > 1 {
			known[i] = true
			if w.halfway(i) {
				return i
			}
			counted++
		}
	}
	for counted < n {
		progress := false
		for i := range w.list {
			if known[i] || !known[w.parents[i][0]] {
				continue
			}
			known[i], progress = true, true
			counted++
			if w.halfway(i) {
				return i
			}
		}
		if !progress {
			break // cannot happen in a DAG; never loop for ever
		}
	}
	best, bestDist := 0, -1
	for i := range w.list {
		if d := w.distance(i); d > bestDist {
			best, bestDist = i, d
		}
	}
	return best
}

func (w *weights) distance(i int) int {
	d := w.weight[i]
	if n := len(w.list); n-d < d {
		d = n - d
	}
	return d
}

// bestNotSkipped is git's choice when commits were skipped: candidates
// by distance (ties by id), the first not skipped. (git then moves a
// little away from a skipped best with a pseudo-random offset; strata
// takes the next best.)
func bestNotSkipped(list []digest.Digest, w *weights, skipped map[digest.Digest]bool) int {
	order := make([]int, len(list))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		da, db := w.distance(order[a]), w.distance(order[b])
		if da != db {
			return da > db
		}
		return list[order[a]] < list[order[b]]
	})
	for _, i := range order {
		if !skipped[list[i]] {
			return i
		}
	}
	return order[0] // all skipped: cannot happen, bad is never skipped
}

// EstimateSteps is git's estimate of the steps left for all candidates:
// about log2(all), one less when all is nearer the power of two below.
func EstimateSteps(all int) int {
	if all < 3 {
		return 0
	}
	n := bits.Len(uint(all)) - 1
	e := 1 << n
	x := all - e
	if e < 3*x {
		return n
	}
	return n - 1
}

// String is for debugging and test failures.
func (s Step) String() string {
	return fmt.Sprintf("next=%s done=%v all=%d left=%d steps=%d", s.Next, s.Done, s.All, s.Left, s.Steps)
}
