package main

import (
	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/repo"
)

// readAhead reads, on its own goroutine, the commits along the first
// parents of a tip before log asks for them: reading, verifying and
// decoding a manifest is most of log's work a commit, and the line of
// history is known one commit ahead, so printing and reading overlap.
type readAhead struct {
	ch   chan []aheadItem
	stop chan struct{}
	next digest.Digest // the commit the channel gives next
	have []aheadItem   // received, not yet taken
}

type aheadItem struct {
	sum objects.Summary
	err error
	has [2]bool // whether the store has the parent, the merge parent
}

func startReadAhead(r *repo.Repo, tip digest.Digest) *readAhead {
	a := &readAhead{ch: make(chan []aheadItem, 16), stop: make(chan struct{}), next: tip}
	go func() {
		defer close(a.ch)
		// Commits go in batches, growing to 64, so that the goroutines
		// do not wake each other once a commit; the first goes at once.
		var batch []aheadItem
		size := 1
		send := func() bool {
			select {
			case a.ch <- batch:
			case <-a.stop:
				return false
			}
			batch, size = nil, min(2*size, 64)
			return true
		}
		// The parent is read before its child is sent: a read that
		// succeeds shows that the store has it, which saved a stat a
		// commit (one system call in five of the walk); only a failed
		// read asks Has.
		var it aheadItem
		it.sum, it.err = r.Objects.ReadSummary(tip)
		for {
			var parent aheadItem
			if p := it.sum.Parent; it.err == nil && p != "" {
				parent.sum, parent.err = r.Objects.ReadSummary(p)
				it.has[0] = parent.err == nil || r.Objects.Has(p)
			}
			if p := it.sum.MergeParent; it.err == nil && p != "" {
				it.has[1] = r.Objects.Has(p)
			}
			batch = append(batch, it)
			last := it.err != nil || !it.has[0]
			if (last || len(batch) == size) && !send() {
				return
			}
			if last {
				return
			}
			it = parent
		}
	}()
	return a
}

// take gives what was read of d if d is the next commit on the line.
func (a *readAhead) take(d digest.Digest) (aheadItem, bool) {
	if a == nil || a.next == "" || d != a.next {
		return aheadItem{}, false
	}
	if len(a.have) == 0 {
		b, ok := <-a.ch
		if !ok {
			a.next = ""
			return aheadItem{}, false
		}
		a.have = b
	}
	it := a.have[0]
	a.have = a.have[1:]
	a.next = ""
	if it.err == nil && it.has[0] {
		a.next = it.sum.Parent
	}
	return it, true
}

// close stops the goroutine.
func (a *readAhead) close() {
	if a != nil {
		close(a.stop)
	}
}
