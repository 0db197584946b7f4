package main

import (
	"container/heap"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/tree"
)

// logTips are the commits log starts from: REV, or with --all HEAD and
// every ref (branches, tags, remote branches), as git log --all.
func logTips(r *repo.Repo, rev string, all bool) ([]digest.Digest, error) {
	if !all {
		d, err := r.Refs.Resolve(rev, r.Objects)
		if err != nil {
			return nil, err
		}
		return []digest.Digest{d}, nil
	}
	var tips []digest.Digest
	if head, err := r.Refs.ReadHead(); err == nil && head.Commit != "" {
		tips = append(tips, head.Commit)
	}
	refsAll, err := r.Refs.List("refs/")
	if err != nil {
		return nil, err
	}
	for _, ref := range refsAll {
		if r.Objects.Has(ref.Target) {
			tips = append(tips, ref.Target)
		}
	}
	return tips, nil
}

// logWalk yields commits newest first, each once, from several tips.
type logWalk struct {
	q    walkQueue
	seen map[digest.Digest]bool
	r    *repo.Repo
}

type walkItem struct {
	id   digest.Digest
	date time.Time
}

type walkQueue []walkItem

func (q walkQueue) Len() int { return len(q) }
func (q walkQueue) Less(i, j int) bool {
	if !q[i].date.Equal(q[j].date) {
		return q[i].date.After(q[j].date)
	}
	return q[i].id > q[j].id
}
func (q walkQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *walkQueue) Push(x any)   { *q = append(*q, x.(walkItem)) }
func (q *walkQueue) Pop() any {
	old := *q
	it := old[len(old)-1]
	*q = old[:len(old)-1]
	return it
}

func newLogWalk(r *repo.Repo, tips []digest.Digest) *logWalk {
	w := &logWalk{seen: map[digest.Digest]bool{}, r: r}
	for _, t := range tips {
		w.push(t)
	}
	return w
}

// push queues d unless it was queued before; a commit whose summary
// cannot be read is queued undated, so that next reports it.
func (w *logWalk) push(d digest.Digest) {
	if d == "" || w.seen[d] {
		return
	}
	w.seen[d] = true
	it := walkItem{id: d}
	if s, err := w.r.Objects.ReadSummary(d); err == nil {
		it.date = s.Date
	}
	heap.Push(&w.q, it)
}

// next is the newest queued commit, or "" at the end.
func (w *logWalk) next() digest.Digest {
	if w.q.Len() == 0 {
		return ""
	}
	return heap.Pop(&w.q).(walkItem).id
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
func markTouched(h *tree.History, d digest.Digest, missing map[string]bool) error {
	for p := range missing {
		ok, err := h.Touches(d, []string{p})
		if err != nil {
			return err
		}
		if ok {
			delete(missing, p)
		}
	}
	return nil
}
