package repo

import (
	"container/heap"
	"errors"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/objects"
)

// Paint flags of paintDown, after git's paint_down_to_common.
const (
	fromA    = 1 << iota // an ancestor of a (or a)
	fromB                // an ancestor of b (or b)
	stale                // an ancestor of a common ancestor found already
	reported             // returned as a common ancestor
)

// paintDown returns the common ancestors of a and b that no other common
// ancestor found descends from, plus maybe some that one does (MergeBase
// drops those). It walks from both tips at once, newest commit first, and
// stops once every commit left to walk is stale: an ancestor of a common
// ancestor found, which cannot be best. The order decides only how much is
// read, not the answer: no commit on a path from a tip down to a best
// common ancestor C is stale (else a common ancestor would descend from C),
// so the walk reaches C from both sides before it ends.
func paintDown(s *objects.Store, a, b digest.Digest) ([]digest.Digest, error) {
	if a == b {
		return []digest.Digest{a}, nil
	}
	w := painter{s: s, flags: map[digest.Digest]int{}, info: map[digest.Digest]commitInfo{}, latest: map[digest.Digest]int{}}
	if err := w.paint(a, fromA); err != nil {
		return nil, err
	}
	if err := w.paint(b, fromB); err != nil {
		return nil, err
	}
	var out []digest.Digest
	for w.live > 0 {
		e := heap.Pop(&w.queue).(paintEntry)
		if !e.stale {
			w.live--
		}
		if e.seq != w.latest[e.id] {
			continue // painted again since: its newer entry stands for it
		}
		f := w.flags[e.id]
		pass := f & (fromA | fromB | stale)
		if f&(fromA|fromB) == fromA|fromB && f&stale == 0 {
			if f&reported == 0 {
				out = append(out, e.id)
				w.flags[e.id] |= reported
			}
			pass |= stale
		}
		for _, p := range w.info[e.id].parents {
			if err := w.paint(p, pass); err != nil {
				return nil, err
			}
		}
	}
	return append(out, w.missingCommon...), nil
}

type commitInfo struct {
	date    time.Time
	parents []digest.Digest
}

type painter struct {
	s      *objects.Store
	flags  map[digest.Digest]int
	info   map[digest.Digest]commitInfo
	latest map[digest.Digest]int // seq of each commit's newest queue entry
	queue  paintQueue
	seq    int
	live   int // queued entries that were not stale when queued
	// missingCommon: common ancestors the store lacks, found by name.
	missingCommon []digest.Digest
}

// paint adds flags to commit d and queues it again if that changed them.
// A commit missing from the store (a shallow history) ends its line.
func (w *painter) paint(d digest.Digest, flags int) error {
	old := w.flags[d]
	if old&flags == flags {
		return nil
	}
	w.flags[d] = old | flags
	ci, ok := w.info[d]
	if !ok {
		m, err := w.s.ReadManifestHead(d)
		if errors.Is(err, objects.ErrNotFound) {
			// Named as a parent but not here (a shallow history): it
			// ends its line, and is still a common ancestor when both
			// sides name it.
			if f := old | flags; f&(fromA|fromB) == fromA|fromB && f&(stale|reported) == 0 {
				w.flags[d] |= reported
				w.missingCommon = append(w.missingCommon, d)
			}
			return nil
		}
		if err != nil {
			return err
		}
		ci.date, _ = time.Parse(time.RFC3339Nano, m.Annotations[ocispec.AnnotationCreated])
		ci.parents = m.Parents()
		w.info[d] = ci
	}
	w.seq++
	w.latest[d] = w.seq
	isStale := (old|flags)&stale != 0
	if !isStale {
		w.live++
	}
	heap.Push(&w.queue, paintEntry{id: d, date: ci.date, seq: w.seq, stale: isStale})
	return nil
}

type paintEntry struct {
	id    digest.Digest
	date  time.Time
	seq   int // ties on date: first in, first out
	stale bool
}

// paintQueue pops the newest commit first.
type paintQueue []paintEntry

func (q paintQueue) Len() int { return len(q) }
func (q paintQueue) Less(i, j int) bool {
	if !q[i].date.Equal(q[j].date) {
		return q[i].date.After(q[j].date)
	}
	return q[i].seq < q[j].seq
}
func (q paintQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *paintQueue) Push(x any)   { *q = append(*q, x.(paintEntry)) }
func (q *paintQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}
