package main

import (
	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/repo"
)

// readAhead reads the commits along the first parents of a tip before
// log asks for them: reading, checking and decoding a manifest is most
// of log's work a commit, and the line of history is known one commit
// ahead. Two goroutines share it, so that a cold walk keeps both cores
// busy: the reader reads each manifest and finds the parent it names
// (objects.ReadPendingSummary), the verifier hashes and decodes what was
// read (objects.VerifySummary). The walk takes only verified commits.
type readAhead struct {
	ch   chan []aheadItem
	stop chan struct{}
	next digest.Digest // the commit the channel gives next
	have []aheadItem   // received, not yet taken
}

type aheadItem struct {
	// pending is what the reader left to the verifier (nil once
	// verified): a pointer, so that the items of a walk whose commits
	// the cache holds stay as small as they were before the verifier.
	pending *objects.PendingSummary
	sum     objects.Summary
	err     error
	has     [2]bool // whether the store has the parent, the merge parent
	// diverged: the commit's parent is not the one read ahead by (the
	// manifest's key was not where the reader looked): nothing after it
	// comes, and the walk reads on by itself.
	diverged bool
}

func startReadAhead(r *repo.Repo, tip digest.Digest) *readAhead {
	a := &readAhead{ch: make(chan []aheadItem, 16), stop: make(chan struct{}), next: tip}
	go readPending(r, tip, a.ch, a.stop)
	return a
}

// send passes batch on unless the walk stopped.
func send(ch chan<- []aheadItem, batch []aheadItem, stop <-chan struct{}) bool {
	select {
	case ch <- batch:
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
// large manifest, and starts the verifier at the first batch that holds
// any other: a log that shows a screenful (log -n 20), or whose commits
// are all in the cache, has no third goroutine to wake.
func readPending(r *repo.Repo, tip digest.Digest, out chan<- []aheadItem, stop <-chan struct{}) {
	defer func() { close(out) }() // the verifier's input, once there is one
	var batch []aheadItem
	size := 1
	verifier := false // out is the verifier's input
	unverified := false
	// The parent is read before its child is sent: a read that succeeds
	// shows that the store has it, which saves a stat a commit (one
	// system call in five of the walk); only a failed read asks Has.
	cur := r.Objects.ReadPendingSummary(tip)
	for {
		var it aheadItem
		var next objects.PendingSummary
		if p := cur.Parent(); cur.Read() && p != "" {
			next = r.Objects.ReadPendingSummary(p)
			it.has[0] = next.Read() || r.Objects.Has(p)
		}
		last := !cur.Read() || !it.has[0]
		// The first batches, a cached commit (nothing to hash) and a
		// large manifest are verified here: those waiting for the
		// verifier hold 64 KiB at most each.
		if size < verifyFrom || cur.Checked() || cur.Large() {
			verify(r, &it, cur)
			last = last || it.err != nil || it.diverged
		} else {
			p := cur // cur is read again below
			it.pending, unverified = &p, true
		}
		batch = append(batch, it)
		if last || len(batch) == size {
			if unverified && !verifier {
				// One batch at most waits between the two, holding
				// its manifests' bytes until verified: with four, the
				// buffers in flight cost 1,400 more page faults a cold
				// walk of 10,000 commits, for no time saved.
				pending := make(chan []aheadItem, 1)
				go verifyPending(r, pending, out, stop)
				out, verifier = pending, true
			}
			if !send(out, batch, stop) || last {
				return
			}
			batch, size, unverified = nil, min(2*size, 64), false
		}
		cur = next
	}
}

// verifyFrom is the size of the first batch the reader leaves to the
// verifier.
const verifyFrom = 32

// verifyPending verifies the reader's batches into out, and ends after
// a commit that failed or whose parent is not the one read ahead by.
func verifyPending(r *repo.Repo, in <-chan []aheadItem, out chan<- []aheadItem, stop <-chan struct{}) {
	defer close(out)
	for batch := range in {
		for i := range batch {
			it := &batch[i]
			if it.pending != nil {
				verify(r, it, *it.pending)
				it.pending = nil // its bytes are not kept past here
			}
			if it.err != nil || it.diverged {
				send(out, batch[:i+1], stop)
				return
			}
		}
		if !send(out, batch, stop) {
			return
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
		a.have = b
	}
	it := a.have[0]
	a.have = a.have[1:]
	a.next = ""
	if it.err == nil && it.has[0] && !it.diverged {
		a.next = it.sum.Parent
	}
	return it, true
}

// close stops the goroutines.
func (a *readAhead) close() {
	if a != nil {
		close(a.stop)
	}
}
