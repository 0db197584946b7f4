package main

import (
	"container/heap"
	"fmt"
	"log/slog"
	"slices"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/loggraph"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/tree"
)

// logTips are the commits log starts from: revs and the pseudo-revisions
// among them (--all, --branches...; parseRevArgs), or HEAD when they
// name no ref (a --not alone changes nothing, as in git). With commits
// to leave out, only holds those log may show (revRange.interesting);
// nil: all. rr is what the revisions name (rr.left: the left ends of
// A...B ranges).
func logTips(r *repo.Repo, revs []string, pseudo []pseudoRev) (tips []digest.Digest, only map[digest.Digest]bool, rr revRange, err error) {
	if len(revs) == 0 && !namesRefs(pseudo) {
		revs, pseudo = []string{"HEAD"}, nil
	}
	if rr, err = parseRevArgs(r, revs, pseudo); err != nil {
		return nil, nil, rr, err
	}
	tips, only, err = rr.tips(r)
	return tips, only, rr, err
}

// ancestryPath is git's --ancestry-path: the commits of a range (tips,
// only) that descend from one of the commits it excludes (bottoms), on
// the line from them to the tips.
func ancestryPath(r *repo.Repo, tips []digest.Digest, only map[digest.Digest]bool, bottoms []digest.Digest) (map[digest.Digest]bool, error) {
	type commit struct{ id, parent, mergeParent digest.Digest }
	var order []commit // children first
	w := newLogWalk(r, tips, only, false, false, nil, nil, nil, nil)
	defer w.close()
	for d, n := w.next(); d != ""; d, n = w.next() {
		if n.err != nil {
			return nil, fmt.Errorf("commit %s: %w", shortID(d), n.err)
		}
		order = append(order, commit{d, n.sum.Parent, n.sum.MergeParent})
	}
	on := map[digest.Digest]bool{}
	for _, d := range bottoms {
		on[d] = true
	}
	path := map[digest.Digest]bool{}
	for i := len(order) - 1; i >= 0; i-- { // parents first
		if c := order[i]; on[c.parent] || on[c.mergeParent] {
			on[c.id], path[c.id] = true, true
		}
	}
	return path, nil
}

// tips are the commits of rr a walk starts from, and only those it may
// show (revRange.interesting; nil: all).
func (rr revRange) tips(r *repo.Repo) (tips []digest.Digest, only map[digest.Digest]bool, err error) {
	if only, err = rr.interesting(r); err != nil {
		return nil, nil, err
	}
	for _, d := range rr.include {
		if only == nil || only[d] {
			tips = append(tips, d)
		}
	}
	return tips, only, nil
}

// logWalk yields commits newest first, each once, from several tips,
// through both parents of a merge (the first only with firstParent),
// never a commit before one of its children. While the walk follows one
// line of history it reads one manifest a commit and stops where log
// stops; where lines meet or part (a merge, several tips) it reads the
// rest of the history to order it, as git log --date-order does (and
// --topo-order, with graph).
type logWalk struct {
	r           *repo.Repo
	shallow     map[digest.Digest]bool
	only        map[digest.Digest]bool // a range's commits; nil: all
	firstParent bool
	graph       bool
	// hist and paths, for log -- PATH: a merge that has a parent's
	// entries at paths (TREESAME) is hidden and only that parent
	// followed, as git's default history simplification.
	hist  *tree.History
	paths []string
	// follow, for log --follow PATH: paths is the one file followed,
	// and becomes the file it was renamed from at the commit that
	// renamed it, as these options find renames.
	follow *tree.RenameOptions
	// stop, for --since: the walk does not go below a commit it says
	// is too old, as git's (older history cannot be shown).
	stop func(objects.Summary) bool

	nodes    map[digest.Digest]*logNode
	frontier walkQueue
	seq      int
	sorted   []digest.Digest // the rest, once ordered
	full     bool
	last     digest.Digest // the last commit given while on one line
	ahead    *readAhead
}

// logNode is what the walk knows of a commit.
type logNode struct {
	sum     objects.Summary
	err     error           // its summary or its paths could not be read
	parents []digest.Digest // the parents followed
	present []digest.Digest // every parent the store has: what ordering keeps children before
	cut     bool            // a parent is missing (shallow): "grafted"
	queued  bool            // pushed to the frontier (a field, not a set: a second map grown a commit)
	hidden  bool            // -- PATH: not touched, or a TREESAME merge
	// followed: with --follow, the paths of the commit's diff: the file
	// followed, and the one it was renamed from at this commit.
	followed []string
}

type walkItem struct {
	id   digest.Digest
	date int64
	seq  int
}

type walkQueue []walkItem

func (q walkQueue) Len() int { return len(q) }
func (q walkQueue) Less(i, j int) bool {
	if q[i].date != q[j].date {
		return q[i].date > q[j].date
	}
	return q[i].seq < q[j].seq
}
func (q walkQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *walkQueue) Push(x any)   { *q = append(*q, x.(walkItem)) }
func (q *walkQueue) Pop() any {
	old := *q
	it := old[len(old)-1]
	*q = old[:len(old)-1]
	return it
}

// newLogWalk starts a walk from tips; hist, paths and follow (nil: not)
// are for log -- PATH, stop (nil: none) for log --since.
func newLogWalk(r *repo.Repo, tips []digest.Digest, only map[digest.Digest]bool, firstParent, graph bool, hist *tree.History, paths []string, follow *tree.RenameOptions, stop func(objects.Summary) bool) *logWalk {
	w := &logWalk{r: r, shallow: r.Shallow(), only: only, nodes: map[digest.Digest]*logNode{},
		firstParent: firstParent, graph: graph, hist: hist, paths: paths, follow: follow, stop: stop}
	if len(tips) > 0 {
		w.ahead = startReadAhead(r, tips[0])
	}
	for _, t := range tips {
		w.push(t)
	}
	return w
}

// close stops the walk's reading ahead, and keeps what it read in the
// summary cache for the next walk (objects.SaveSummaries): a cache that
// cannot be written costs speed, never the log.
func (w *logWalk) close() {
	w.ahead.close()
	if err := w.r.Objects.SaveSummaries(); err != nil {
		slog.Debug("summary cache not written", "err", err)
	}
}

// push queues d unless it was queued before.
func (w *logWalk) push(d digest.Digest) {
	n := w.node(d)
	if n.queued {
		return
	}
	n.queued = true
	heap.Push(&w.frontier, walkItem{id: d, date: n.sum.Date.UnixNano(), seq: w.seq})
	w.seq++
}

// node reads what the walk needs of d, once. A commit whose summary
// cannot be read is undated and has no parents; next reports it.
func (w *logWalk) node(d digest.Digest) *logNode {
	if n := w.nodes[d]; n != nil {
		return n
	}
	n := &logNode{}
	w.nodes[d] = n
	it, ok := w.ahead.take(d)
	if !ok {
		it.sum, it.err = w.r.Objects.ReadSummary(d)
		if it.err == nil {
			for i, p := range []digest.Digest{it.sum.Parent, it.sum.MergeParent} {
				it.has[i] = p != "" && w.r.Objects.Has(p)
			}
		}
	}
	n.sum, n.err = it.sum, it.err
	if n.err != nil {
		return n
	}
	// A shallow commit is marked; whatever parent it has is followed (a
	// merge whose second parent a registry lost).
	n.cut = w.shallow[d]
	for i, p := range []digest.Digest{n.sum.Parent, n.sum.MergeParent} {
		switch {
		case p == "":
		case !it.has[i]:
			n.cut = true
		case w.only != nil && !w.only[p]:
			// Left out by the range: the walk ends there, as git's.
		default:
			n.present = append(n.present, p)
			if i == 0 || !w.firstParent {
				n.parents = append(n.parents, p)
			}
		}
	}
	if w.stop != nil && w.stop(n.sum) {
		n.parents, n.present = nil, nil
		return n
	}
	if w.hist != nil {
		n.err = w.simplify(d, n)
	}
	return n
}

// simplify decides, for log -- PATH, whether d is shown and which
// parents the walk follows.
func (w *logWalk) simplify(d digest.Digest, n *logNode) error {
	c, err := w.hist.Commit(d)
	if err != nil {
		return err
	}
	// The commit is read for the paths anyway: its record, perhaps from
	// the summary cache, must say what it says (a forged one would hide
	// it as TREESAME with a parent it has not).
	if err := checkCommitSummary(c, n.sum); err != nil {
		return err
	}
	if w.follow != nil {
		n.followed = w.paths
	}
	if len(n.parents) < 2 {
		touched, err := w.hist.Touches(c, w.paths)
		n.hidden = !touched
		if err != nil || !touched || w.follow == nil {
			return err
		}
		from, err := renamedFrom(w.r, d, w.paths[0], *w.follow)
		if from != "" {
			n.followed, w.paths = []string{from, w.paths[0]}, []string{from}
		}
		return err
	}
	parents := make([]*objects.Commit, 0, len(n.parents))
	for _, p := range n.parents {
		pc, err := w.r.Objects.ReadCommit(p)
		if err != nil {
			return err
		}
		parents = append(parents, pc)
	}
	same, err := w.hist.SameParent(c, parents, w.paths)
	if err != nil {
		return err
	}
	if same != nil {
		// git rewrites the merge's parents to the one it matches.
		n.hidden, n.parents, n.present = true, []digest.Digest{same.ID}, []digest.Digest{same.ID}
	}
	return nil
}

// renamedFrom is, when commit d added file p (its first parent has none
// there), the file d renamed or copied to p, found as git's --follow
// finds it: the renames and copies of d's whole diff (as -C -C: from
// every file of the parent), with p the only destination; else "".
func renamedFrom(r *repo.Repo, d digest.Digest, p string, o tree.RenameOptions) (string, error) {
	c, err := r.Objects.ReadCommit(d)
	if err != nil {
		return "", err
	}
	pid := c.Parent()
	if pid == "" || !r.Objects.Has(pid) {
		return "", nil
	}
	parent, err := r.Objects.ReadCommit(pid)
	if err != nil {
		return "", err
	}
	trees := tree.NewTrees(r.Objects)
	changes, err := tree.DiffRevisions(trees, parent, c, nil)
	if err != nil {
		return "", err
	}
	if !slices.ContainsFunc(changes, func(ch tree.Change) bool { return ch.Kind == tree.Added && ch.Path == p }) {
		return "", nil
	}
	pt, err := trees.Of(parent)
	if err != nil {
		return "", err
	}
	o.Copies, o.Unmodified = true, tree.UnmodifiedFiles(pt, changes, nil)
	candidates := slices.DeleteFunc(slices.Clone(changes), func(ch tree.Change) bool { return ch.Kind == tree.Added && ch.Path != p })
	o.Read = tree.NewHistory(r.Objects).LayerRead(parent.Layers(), c.Layers())
	found, _, err := tree.FindRenames(candidates, o)
	if err != nil {
		return "", err
	}
	for _, ch := range found {
		if ch.Kind.Paired() && ch.Path == p {
			return ch.OldPath, nil
		}
	}
	return "", nil
}

// shownParents are n's parents as the graph draws them: with PATHs, each
// followed down past the commits log hides to the first it shows (a
// hidden root drops it), as git rewrites parents; each once.
func (w *logWalk) shownParents(n *logNode) []digest.Digest {
	var out []digest.Digest
	for _, p := range n.parents {
		for w.hist != nil {
			pn := w.node(p)
			if !pn.hidden || pn.err != nil || len(pn.parents) != 1 {
				break
			}
			p = pn.parents[0]
		}
		if pn := w.node(p); w.hist != nil && pn.hidden && pn.err == nil && len(pn.parents) == 0 {
			continue
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// next is the next commit to show (or hide), or "" at the end.
func (w *logWalk) next() (digest.Digest, *logNode) {
	if !w.full && w.frontier.Len() > 1 {
		w.sortRest()
	}
	if w.full {
		if len(w.sorted) == 0 {
			return "", nil
		}
		d := w.sorted[0]
		w.sorted = w.sorted[1:]
		return d, w.nodes[d]
	}
	if w.frontier.Len() == 0 {
		return "", nil
	}
	// One line of history: its next commit is the only candidate.
	d := heap.Pop(&w.frontier).(walkItem).id
	n := w.nodes[d]
	for _, p := range n.parents {
		w.push(p)
	}
	w.last = d
	return d, n
}

// sortRest reads the rest of the history from the frontier and orders
// it: children before parents, by date (or in graph order).
func (w *logWalk) sortRest() {
	w.full = true
	var tips []string
	for w.frontier.Len() > 0 {
		tips = append(tips, string(heap.Pop(&w.frontier).(walkItem).id))
	}
	// The order starts from the commit given last, as if the whole
	// history were ordered at once (in graph order, a merge's second
	// parent goes first); that commit itself was given already.
	if w.last != "" {
		tips = []string{string(w.last)}
	}
	strs := func(ds []digest.Digest) []string {
		out := make([]string, len(ds))
		for i, d := range ds {
			out[i] = string(d)
		}
		return out
	}
	dag := loggraph.DAG{
		Parents:     func(id string) []string { return strs(w.node(digest.Digest(id)).parents) },
		SortParents: func(id string) []string { return strs(w.node(digest.Digest(id)).present) },
		Date:        func(id string) int64 { return w.node(digest.Digest(id)).sum.Date.UnixNano() },
	}
	for _, id := range dag.Sort(dag.Walk(tips), w.graph) {
		if digest.Digest(id) != w.last {
			w.sorted = append(w.sorted, digest.Digest(id))
		}
	}
}

// missingAt marks the paths that exist in none of the tips; log then
// clears those that a shown commit touched.
func missingAt(h *tree.History, r *repo.Repo, tips []digest.Digest, paths []string) (map[string]bool, error) {
	missing := map[string]bool{}
	var cs []*objects.Commit
	for _, t := range tips {
		c, err := r.Objects.ReadCommit(t)
		if err != nil {
			return nil, err
		}
		cs = append(cs, c)
	}
	for _, p := range paths {
		found := false
		for _, c := range cs {
			ok, err := pathExists(h, c, p)
			if err != nil {
				return nil, err
			}
			if found = ok; found {
				break
			}
		}
		if !found {
			missing[p] = true
		}
	}
	return missing, nil
}

// markTouched clears from missing the paths commit d changed.
func markTouched(h *tree.History, r *repo.Repo, d digest.Digest, missing map[string]bool) error {
	c, err := r.Objects.ReadCommit(d)
	if err != nil {
		return err
	}
	for p := range missing {
		ok, err := h.Touches(c, []string{p})
		if err != nil {
			return err
		}
		if ok {
			delete(missing, p)
		}
	}
	return nil
}

// namedAt reports whether p, as it is spelled (no pattern), is a path of
// one of the tips.
func namedAt(h *tree.History, r *repo.Repo, tips []digest.Digest, p string) (bool, error) {
	for _, t := range tips {
		c, err := r.Objects.ReadCommit(t)
		if err != nil {
			return false, err
		}
		if e, err := h.Lookup(c.Layers(), p); err != nil || e != nil {
			return e != nil, err
		}
	}
	return false, nil
}
