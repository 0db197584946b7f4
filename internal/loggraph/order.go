// Package loggraph orders a commit graph and draws it as git log --graph
// does. It knows nothing of stores: commits are strings, and the caller
// says what each one's parents and date are.
package loggraph

import (
	"container/heap"
	"slices"
)

// DAG is what ordering needs of a history. Parents lists the parents to
// follow, first parent first (none past a shallow cut; only the first
// with --first-parent). Date orders commits, newer first.
type DAG struct {
	Parents func(id string) []string
	Date    func(id string) int64
	// SortParents, if set, are the parents Sort keeps children before:
	// with --first-parent git follows first parents but orders by all.
	SortParents func(id string) []string
}

// Walk lists the commits reachable from tips as git's revision walk meets
// them: newest first by date, ties in the order they were reached (a
// tip before the commits it reaches, a first parent before a second).
// Tips are taken in the order given among equal dates.
func (g DAG) Walk(tips []string) []string {
	q := &dateQueue{date: g.Date}
	seen := map[string]bool{}
	for _, t := range tips {
		if !seen[t] {
			seen[t] = true
			q.put(t)
		}
	}
	var out []string
	for q.Len() > 0 {
		c := q.get()
		out = append(out, c)
		for _, p := range g.Parents(c) {
			if !seen[p] {
				seen[p] = true
				q.put(p)
			}
		}
	}
	return out
}

// Sort orders walked (the output of Walk) so that no commit comes before
// one of its children. By date (git's --date-order) the newest ready
// commit goes next; in graph order (git's --topo-order, what --graph
// uses) the last commit to become ready goes next, so a branch's commits
// stay together.
func (g DAG) Sort(walked []string, graphOrder bool) []string {
	parents := g.Parents
	if g.SortParents != nil {
		parents = g.SortParents
	}
	// indeg is 1 + the number of children in the set; 0 outside it or
	// once shown.
	indeg := make(map[string]int, len(walked))
	for _, c := range walked {
		indeg[c] = 1
	}
	for _, c := range walked {
		for _, p := range parents(c) {
			if indeg[p] > 0 {
				indeg[p]++
			}
		}
	}
	var ready interface {
		put(string)
		get() string
		Len() int
	}
	if graphOrder {
		ready = &stack{}
	} else {
		ready = &dateQueue{date: g.Date}
	}
	var tips []string
	for _, c := range walked {
		if indeg[c] == 1 {
			tips = append(tips, c)
		}
	}
	if graphOrder {
		// The first tip is taken first.
		slices.Reverse(tips)
	}
	for _, t := range tips {
		ready.put(t)
	}
	out := make([]string, 0, len(walked))
	for ready.Len() > 0 {
		c := ready.get()
		for _, p := range parents(c) {
			if indeg[p] == 0 {
				continue
			}
			// A parent is ready once all its children are shown.
			if indeg[p]--; indeg[p] == 1 {
				ready.put(p)
			}
		}
		indeg[c] = 0
		out = append(out, c)
	}
	return out
}

type stack []string

func (s *stack) put(c string) { *s = append(*s, c) }
func (s *stack) get() string {
	c := (*s)[len(*s)-1]
	*s = (*s)[:len(*s)-1]
	return c
}
func (s *stack) Len() int { return len(*s) }

// dateQueue yields the newest commit first; among equal dates, the one
// put first.
type dateQueue struct {
	items []dated
	n     int
	date  func(string) int64
}

type dated struct {
	id   string
	date int64
	seq  int
}

func (q *dateQueue) put(c string) {
	heap.Push(q, dated{c, q.date(c), q.n})
	q.n++
}
func (q *dateQueue) get() string { return heap.Pop(q).(dated).id }

func (q *dateQueue) Len() int { return len(q.items) }
func (q *dateQueue) Less(i, j int) bool {
	a, b := q.items[i], q.items[j]
	if a.date != b.date {
		return a.date > b.date
	}
	return a.seq < b.seq
}
func (q *dateQueue) Swap(i, j int) { q.items[i], q.items[j] = q.items[j], q.items[i] }
func (q *dateQueue) Push(x any)    { q.items = append(q.items, x.(dated)) }
func (q *dateQueue) Pop() any {
	it := q.items[len(q.items)-1]
	q.items = q.items[:len(q.items)-1]
	return it
}
