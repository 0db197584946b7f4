package main

import (
	"runtime"
	"sync"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/repo"
)

// readAhead reads the commits along the first parents of a tip before
// log asks for them: reading, checking and decoding a manifest is most
// of log's work a commit, and the line of history is known one commit
// ahead. A reader opens each manifest and finds the parent it names in
// its tail (objects.ReadPendingSummary), so that it runs far ahead;
// verifiers, one a core, read what was opened whole, hash and decode it
// (objects.VerifySummary), a batch each at a time, so that a cold walk
// keeps every core busy. The walk takes the batches in the reader's
// order, each once verified, and only verified commits.
type readAhead struct {
	ch   chan *aheadBatch
	stop chan struct{}
	done sync.WaitGroup // the reader and the verifiers
	next digest.Digest  // the commit the channel gives next
	have []aheadItem    // received, not yet taken
}

// aheadBatch is commits of the line in order, and done, closed once a
// verifier has verified them (nil if the reader did).
type aheadBatch struct {
	items []aheadItem
	done  chan struct{}
}

type aheadItem struct {
	// pending is what the reader left to a verifier (nil once verified):
	// a pointer, so that the items of a walk whose commits the cache
	// holds stay as small as they were before the verifiers.
	pending *objects.PendingSummary
	sum     objects.Summary
	err     error
	has     [2]bool // whether the store has the parent, the merge parent
	// diverged: the commit's parent is not the one read ahead by (the
	// manifest's key was not where the reader looked): nothing after it
	// is taken, and the walk reads on by itself.
	diverged bool
}

func startReadAhead(r *repo.Repo, tip digest.Digest) *readAhead {
	a := &readAhead{ch: make(chan *aheadBatch, 16), stop: make(chan struct{}), next: tip}
	a.done.Go(func() { readPending(r, tip, a.ch, a.stop, &a.done) })
	return a
}

// send passes v on unless the walk stopped.
func send[T any](ch chan<- T, v T, stop <-chan struct{}) bool {
	select {
	case ch <- v:
		return true
	case <-stop:
		return false
	}
}

// readPending reads the line from tip into out, in batches growing to
// 64 (so that the goroutines do not wake each other once a commit; the
// first goes at once), until a commit that cannot be read, a root, or
// one whose parent the store lacks. It verifies itself the first
// batches, a commit the summary cache holds (nothing to hash) and a
// large manifest, and starts the verifiers at the first batch that holds
// any other: a log that shows a screenful (log -n 20), or whose commits
// are all in the cache, has no other goroutine to wake.
func readPending(r *repo.Repo, tip digest.Digest, out chan<- *aheadBatch, stop <-chan struct{}, verifiers *sync.WaitGroup) {
	defer close(out)
	var work chan *aheadBatch // the verifiers' input, once there are any
	started := 0              // verifiers
	defer func() {
		if work != nil {
			close(work)
		}
	}()
	batch := &aheadBatch{}
	size := 1
	// The parent is opened before its child is sent: an open that
	// succeeds shows that the store has it, which saves a stat a commit;
	// only a failed one asks Has.
	cur := r.Objects.ReadPendingSummary(tip)
	for {
		select {
		case <-stop: // a walk that ends waits for this goroutine
			dropPending(batch)
			cur.Drop()
			return
		default:
		}
		var it aheadItem
		var next objects.PendingSummary
		if p := cur.Parent(); cur.Read() && p != "" {
			next = r.Objects.ReadPendingSummary(p)
			it.has[0] = next.Read() || r.Objects.Has(p)
		}
		last := !cur.Read() || !it.has[0]
		if size < verifyFrom || cur.Checked() || cur.Large() {
			verify(r, &it, cur)
			last = last || it.err != nil || it.diverged
		} else {
			p := cur // cur is read again below
			it.pending = &p
			if batch.done == nil {
				batch.done = make(chan struct{})
			}
		}
		batch.items = append(batch.items, it)
		if last || len(batch.items) == size {
			if batch.done != nil && started < runtime.GOMAXPROCS(0) {
				// One batch at most waits for a verifier, holding its
				// manifests open: the walk needs them in order anyway.
				// A verifier more a batch: a walk that ends within the
				// first (log -n 20) starts one thread, not one a core.
				if work == nil {
					work = make(chan *aheadBatch, 1)
				}
				verifiers.Go(func() { verifyPending(r, work, stop) })
				started++
			}
			// Sent to the walk first, so that it waits in order; then
			// to the verifiers.
			if !send(out, batch, stop) || (batch.done != nil && !send(work, batch, stop)) {
				dropPending(batch)
				next.Drop()
				return
			}
			if last {
				next.Drop()
				return
			}
			batch, size = &aheadBatch{}, min(2*size, 64)
		}
		cur = next
	}
}

// verifyFrom is the size of the first batch the reader leaves to the
// verifiers.
const verifyFrom = 32

// verifyPending verifies the reader's batches; once the walk stopped, it
// only closes what they opened.
func verifyPending(r *repo.Repo, in <-chan *aheadBatch, stop <-chan struct{}) {
	for batch := range in {
		for i := range batch.items {
			it := &batch.items[i]
			if it.pending == nil {
				continue
			}
			select {
			case <-stop:
				it.pending.Drop()
			default:
				verify(r, it, *it.pending)
			}
			it.pending = nil // nothing of it is kept past here
		}
		close(batch.done)
	}
}

// dropPending closes what the unverified commits of batch opened.
func dropPending(batch *aheadBatch) {
	for i := range batch.items {
		if p := batch.items[i].pending; p != nil {
			p.Drop()
			batch.items[i].pending = nil
		}
	}
}

// verify gives it the summary of p, checked, and says whether the store
// has its merge parent, and its parent when that is not the one read
// ahead.
func verify(r *repo.Repo, it *aheadItem, p objects.PendingSummary) {
	it.sum, it.err = r.Objects.VerifySummary(p)
	if it.err != nil {
		return
	}
	if it.sum.Parent != p.Parent() {
		it.diverged = true
		it.has[0] = it.sum.Parent != "" && r.Objects.Has(it.sum.Parent)
	}
	if p := it.sum.MergeParent; p != "" {
		it.has[1] = r.Objects.Has(p)
	}
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
		if b.done != nil {
			<-b.done
		}
		a.have = b.items
	}
	it := a.have[0]
	a.have = a.have[1:]
	a.next = ""
	if it.err == nil && it.has[0] && !it.diverged {
		a.next = it.sum.Parent
	}
	return it, true
}

// close stops the goroutines and waits for them, so that nothing they
// opened stays open and every summary they read is noted for the cache.
func (a *readAhead) close() {
	if a != nil {
		close(a.stop)
		a.done.Wait()
	}
}
